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
    enum Kind {
        case flag(WritableKeyPath<RunArgs, Bool>)
        case optional(WritableKeyPath<RunArgs, String?>)
        case text(WritableKeyPath<RunArgs, String>)
        case list(WritableKeyPath<RunArgs, [String]>)
        case number(WritableKeyPath<RunArgs, Int?>)
        case boolean(WritableKeyPath<RunArgs, Bool>)
    }

    // Immutable after initialisation; key paths are not Sendable.
    nonisolated(unsafe) static let long: [String: Kind] = [
        "detach": .flag(\.detach), "interactive": .flag(\.interactive), "tty": .flag(\.tty), "rm": .flag(\.remove),
        "privileged": .flag(\.privileged), "read-only": .flag(\.readOnly), "init": .flag(\.initProcess),
        "name": .optional(\.name), "workdir": .optional(\.workdir), "user": .optional(\.user),
        "entrypoint": .optional(\.entrypoint), "hostname": .optional(\.hostname), "userns": .optional(\.userns),
        "stop-signal": .optional(\.stopSignal), "memory": .optional(\.memory), "cpus": .optional(\.cpus),
        "root": .optional(\.root), "platform": .optional(\.platform),
        "network": .text(\.network), "net": .text(\.network), "pull": .text(\.pull),
        "env": .list(\.env), "env-file": .list(\.envFile), "volume": .list(\.volume), "mount": .list(\.mount),
        "tmpfs": .list(\.tmpfs), "publish": .list(\.publish), "cap-add": .list(\.capAdd), "cap-drop": .list(\.capDrop),
        "security-opt": .list(\.securityOpt), "label": .list(\.label), "log-opt": .list(\.logOpt),
        "stop-timeout": .number(\.stopTimeout), "pids-limit": .number(\.pidsLimit),
        "read-only-tmpfs": .boolean(\.readOnlyTmpfs), "tls-verify": .boolean(\.tlsVerify),
    ]

    static let short: [Character: String] = [
        "d": "detach", "i": "interactive", "t": "tty", "e": "env", "w": "workdir", "u": "user", "v": "volume",
        "p": "publish", "l": "label", "m": "memory",
    ]

    static func parse(_ argv: [String]) -> RunArgs? {
        var r = RunArgs()
        var given = Set<String>()
        var i = 0
        func set(_ name: String, _ value: String?) -> Bool {
            guard let kind = long[name] else { return false }
            if case .list = kind {} else {
                // ArgumentParser's rules for a repeated option are its own.
                guard given.insert(name).inserted else { return false }
            }
            switch kind {
            case .flag(let k):
                guard value == nil else { return false }
                r[keyPath: k] = true
                return true
            default:
                break
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
            case .optional(let k): r[keyPath: k] = v
            case .text(let k): r[keyPath: k] = v
            case .list(let k): r[keyPath: k].append(v)
            case .number(let k):
                guard let n = Int(v) else { return false }
                r[keyPath: k] = n
            case .boolean(let k):
                guard let b = Bool(v) else { return false }
                r[keyPath: k] = b
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
