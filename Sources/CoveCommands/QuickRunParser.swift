/// `cove run` and `cove create` command lines of the usual shapes, parsed
/// without ArgumentParser. ArgumentParser works out a command's options by
/// runtime reflection each time it starts (a third of the front's own work
/// in `cove run`); this table-driven parser takes what it fully understands
/// and answers nil for anything else (help, a usage error, an option it
/// does not know, `--flag=value` on a flag, a value that looks like an
/// option, a single-valued option given twice), which then goes through
/// ArgumentParser as before: messages and help stay the tree's own. Tests
/// hold it to ArgumentParser's result on a corpus of command lines.
enum QuickRunParser {
    /// How an option takes its value, and where it goes. Closures, not key
    /// paths: key paths are built by the runtime on first use, which cost
    /// more than the parse itself.
    enum Kind {
        case flag((inout RunArgs) -> Void)
        case text((inout RunArgs, String) -> Void)
        case list((inout RunArgs, String) -> Void)
        case number((inout RunArgs, Int) -> Void)
        case boolean((inout RunArgs, Bool) -> Void)
    }

    /// Every name `kind` knows (for the tests that hold it to RunFlags).
    static let names = [
        "detach", "interactive", "tty", "rm", "privileged", "read-only", "init", "name", "workdir", "user",
        "entrypoint", "hostname", "userns", "stop-signal", "memory", "cpus", "root", "platform", "network", "net",
        "pull", "env", "env-file", "volume", "mount", "tmpfs", "publish", "cap-add", "cap-drop", "security-opt",
        "label", "log-opt", "stop-timeout", "pids-limit", "read-only-tmpfs", "tls-verify",
    ]

    static func kind(_ name: String) -> Kind? {
        switch name {
        case "detach": return .flag { $0.detach = true }
        case "interactive": return .flag { $0.interactive = true }
        case "tty": return .flag { $0.tty = true }
        case "rm": return .flag { $0.remove = true }
        case "privileged": return .flag { $0.privileged = true }
        case "read-only": return .flag { $0.readOnly = true }
        case "init": return .flag { $0.initProcess = true }
        case "name": return .text { $0.name = $1 }
        case "workdir": return .text { $0.workdir = $1 }
        case "user": return .text { $0.user = $1 }
        case "entrypoint": return .text { $0.entrypoint = $1 }
        case "hostname": return .text { $0.hostname = $1 }
        case "userns": return .text { $0.userns = $1 }
        case "stop-signal": return .text { $0.stopSignal = $1 }
        case "memory": return .text { $0.memory = $1 }
        case "cpus": return .text { $0.cpus = $1 }
        case "root": return .text { $0.root = $1 }
        case "platform": return .text { $0.platform = $1 }
        case "network", "net": return .text { $0.network = $1 }
        case "pull": return .text { $0.pull = $1 }
        case "env": return .list { $0.env.append($1) }
        case "env-file": return .list { $0.envFile.append($1) }
        case "volume": return .list { $0.volume.append($1) }
        case "mount": return .list { $0.mount.append($1) }
        case "tmpfs": return .list { $0.tmpfs.append($1) }
        case "publish": return .list { $0.publish.append($1) }
        case "cap-add": return .list { $0.capAdd.append($1) }
        case "cap-drop": return .list { $0.capDrop.append($1) }
        case "security-opt": return .list { $0.securityOpt.append($1) }
        case "label": return .list { $0.label.append($1) }
        case "log-opt": return .list { $0.logOpt.append($1) }
        case "stop-timeout": return .number { $0.stopTimeout = $1 }
        case "pids-limit": return .number { $0.pidsLimit = $1 }
        case "read-only-tmpfs": return .boolean { $0.readOnlyTmpfs = $1 }
        case "tls-verify": return .boolean { $0.tlsVerify = $1 }
        default: return nil
        }
    }

    static let short: [Character: String] = [
        "d": "detach", "i": "interactive", "t": "tty", "e": "env", "w": "workdir", "u": "user", "v": "volume",
        "p": "publish", "l": "label", "m": "memory",
    ]

    static func parse(_ argv: [String]) -> RunArgs? {
        var r = RunArgs()
        var given: [String] = []
        var i = 0
        func set(_ name: String, _ value: String?) -> Bool {
            guard let kind = kind(name) else { return false }
            if case .list = kind {} else {
                // ArgumentParser's rules for a repeated option are its own.
                let canonical = name == "net" ? "network" : name
                guard !given.contains(canonical) else { return false }
                given.append(canonical)
            }
            if case .flag(let apply) = kind {
                guard value == nil else { return false }
                apply(&r)
                return true
            }
            let v: String
            if let value { v = value } else {
                i += 1
                guard i < argv.count, !argv[i].hasPrefix("-") else { return false }
                v = argv[i]
            }
            guard !v.isEmpty else { return false }
            switch kind {
            case .flag: return false
            case .text(let apply), .list(let apply): apply(&r, v)
            case .number(let apply):
                guard let n = Int(v) else { return false }
                apply(&r, n)
            case .boolean(let apply):
                guard let b = Bool(v) else { return false }
                apply(&r, b)
            }
            return true
        }
        while i < argv.count {
            let a = argv[i]
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                guard !body.isEmpty else { return nil }
                let ok: Bool
                if let eq = body.firstIndex(of: "=") {
                    ok = set(String(body[..<eq]), String(body[body.index(after: eq)...]))
                } else {
                    ok = set(String(body), nil)
                }
                guard ok else { return nil }
            } else if a.hasPrefix("-") {
                let letters = Array(a.dropFirst())
                guard !letters.isEmpty else { return nil }
                if letters.allSatisfy({ "dit".contains($0) }) {
                    for c in letters { guard set(short[c]!, nil) else { return nil } }
                } else {
                    guard letters.count == 1, let name = short[letters[0]], set(name, nil) else { return nil }
                }
            } else {
                r.image = a
                r.command = Array(argv[(i + 1)...])
                return r
            }
            i += 1
        }
        return nil
    }
}
