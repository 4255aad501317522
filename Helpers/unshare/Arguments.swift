/// The OCI runtime command line (runtime-tools command-line-interface.md,
/// with runc's and crun's spellings): global options, a command, its
/// options and operands, options accepted before or after operands.
struct Arguments {
    var root: String?
    var logPath: String?
    var logFormat: RuntimeLogHandler.Format = .text
    var debug = false
    var command: String = ""
    var values: [String: String] = [:]
    var flags: Set<String> = []
    /// Options that may repeat (exec's --env and --cap), in order.
    var lists: [String: [String]] = [:]
    var operands: [String] = []

    struct CommandShape {
        var values: [String: String] = [:]   // spelling -> canonical name
        var flags: [String: String] = [:]
        var lists: [String: String] = [:]
        var usage: String
        /// Everything after the first operand is an operand (exec's command).
        var operandsEndOptions = false
    }

    /// One command's shape: a switch, so that only that command's tables
    /// are made (a dictionary of them all cost every start the runtime's
    /// generic metadata lookups).
    static func shape(_ command: String) -> CommandShape? {
        switch command {
        case "create":
            return CommandShape(
                values: ["--bundle": "bundle", "-b": "bundle", "--pid-file": "pid-file",
                         "--console-socket": "console-socket", "--preserve-fds": "preserve-fds",
                         "--network-fd": "network-fd"],
                flags: ["--no-pivot": "no-pivot", "--no-new-keyring": "no-new-keyring", "--monitor": "monitor"],
                usage: "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] [--network-fd FD] [--monitor] ID")
        case "run":
            return CommandShape(
                values: ["--bundle": "bundle", "-b": "bundle", "--pid-file": "pid-file",
                         "--console-socket": "console-socket", "--preserve-fds": "preserve-fds",
                         "--output-log": "output-log", "--output-log-max": "output-log-max",
                         "--exit-command": "exit-command", "--network-fd": "network-fd", "--early-fd": "early-fd"],
                flags: ["--detach": "detach", "-d": "detach", "--no-pivot": "no-pivot",
                        "--no-new-keyring": "no-new-keyring", "--keep": "keep", "--monitor": "monitor"],
                lists: ["--exit-command-arg": "exit-command-arg"],
                usage: "run [--bundle DIR] [--detach [--monitor [--output-log FILE [--output-log-max BYTES]] "
                    + "[--exit-command PATH [--exit-command-arg ARG]...]]] [--pid-file FILE] [--network-fd FD] [--early-fd FD] ID")
        case "start":
            return CommandShape(usage: "start ID")
        case "state":
            return CommandShape(usage: "state ID")
        case "kill":
            return CommandShape(flags: ["--all": "all", "-a": "all"], usage: "kill [--all] ID [SIGNAL]")
        case "delete":
            return CommandShape(flags: ["--force": "force", "-f": "force"], usage: "delete [--force] ID")
        case "list":
            return CommandShape(values: ["--format": "format", "-f": "format"],
                                flags: ["--quiet": "quiet", "-q": "quiet"], usage: "list [--format table|json] [--quiet]")
        case "spec":
            return CommandShape(values: ["--bundle": "bundle", "-b": "bundle"], flags: ["--rootless": "rootless"],
                                usage: "spec [--bundle DIR] [--rootless]")
        case "features":
            return CommandShape(usage: "features")
        case "exec":
            return CommandShape(
                values: ["--process": "process", "-p": "process", "--console-socket": "console-socket",
                         "--pid-file": "pid-file", "--cwd": "cwd", "--user": "user", "-u": "user",
                         "--preserve-fds": "preserve-fds", "--process-label": "process-label", "--apparmor": "apparmor"],
                flags: ["--tty": "tty", "-t": "tty", "--detach": "detach", "-d": "detach",
                        "--no-new-privs": "no-new-privs", "--ignore-paused": "ignore-paused"],
                lists: ["--env": "env", "-e": "env", "--cap": "cap", "-c": "cap"],
                usage: "exec [--process FILE] [--tty] [--console-socket SOCK] [--pid-file FILE] [--detach] "
                    + "[--cwd DIR] [--env K=V]... [--user UID[:GID]] [--cap CAP]... [--no-new-privs] [--preserve-fds N] ID [COMMAND [ARG...]]",
                operandsEndOptions: true)
        case "ps":
            return CommandShape(values: ["--format": "format", "-f": "format"], usage: "ps [--format table|json] ID")
        default: return nil
        }
    }

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    /// Global flags that callers pass and that change nothing here.
    static let ignoredGlobalFlags = ["--systemd-cgroup", "--no-pivot"]
    static let ignoredGlobalValues = ["--rootless", "--cgroup-manager", "--criu", "--log-level"]

    init(_ argv: [String]) throws {
        var i = 0
        func value(_ name: String, inline: String?) throws -> String {
            if let inline { return inline }
            i += 1
            guard i < argv.count else { throw UsageError(description: "option \(name) needs a value") }
            return argv[i]
        }
        // Global options, up to the command.
        while i < argv.count {
            let a = argv[i]
            let (name, inline) = Arguments.split(a)
            switch name {
            case "--root": root = try value(name, inline: inline)
            case "--log": logPath = try value(name, inline: inline)
            case "--log-format":
                let v = try value(name, inline: inline)
                guard let f = RuntimeLogHandler.Format(rawValue: v) else {
                    throw UsageError(description: "unknown log format \(v) (text or json)")
                }
                logFormat = f
            case "--debug": debug = true
            case "--version", "-v": command = "version"; return
            case "--help", "-h": command = "help"; return
            default:
                if Arguments.ignoredGlobalFlags.contains(name) { break }
                if Arguments.ignoredGlobalValues.contains(name) { _ = try value(name, inline: inline); break }
                if a.hasPrefix("-") { throw UsageError(description: "unknown global option \(a)") }
                command = a
            }
            i += 1
            if !command.isEmpty { break }
        }
        guard !command.isEmpty else { command = "help"; return }
        if command == "help" || command == "version" { return }
        guard let shape = Arguments.shape(command) else {
            throw UsageError(description: "unknown command \(command)")
        }
        var onlyOperands = false
        while i < argv.count {
            let a = argv[i]
            if onlyOperands || !a.hasPrefix("-") || a == "-" || Arguments.isNegativeNumber(a) {
                operands.append(a)
                if shape.operandsEndOptions { onlyOperands = true }
            } else if a == "--" {
                onlyOperands = true
            } else {
                let (name, inline) = Arguments.split(a)
                if let canonical = shape.values[name] {
                    values[canonical] = try value(name, inline: inline)
                } else if let canonical = shape.lists[name] {
                    lists[canonical, default: []].append(try value(name, inline: inline))
                } else if let canonical = shape.flags[name] {
                    if let inline, inline == "false" { flags.remove(canonical) } else { flags.insert(canonical) }
                } else if name == "--help" || name == "-h" {
                    throw UsageError(description: "usage: cove-unshare \(shape.usage)")
                } else {
                    throw UsageError(description: "unknown option \(a) for \(command); usage: cove-unshare \(shape.usage)")
                }
            }
            i += 1
        }
    }

    static func split(_ a: String) -> (String, String?) {
        guard a.hasPrefix("--"), let eq = a.firstIndex(of: "=") else { return (a, nil) }
        return (String(a[..<eq]), String(a[a.index(after: eq)...]))
    }

    static func isNegativeNumber(_ a: String) -> Bool { a.count > 1 && Int(a) != nil }

    func operand(_ n: Int, _ what: String) throws -> String {
        guard n < operands.count else {
            throw UsageError(description: "\(command) needs \(what); usage: cove-unshare \(Arguments.shape(command)?.usage ?? command)")
        }
        return operands[n]
    }
}
