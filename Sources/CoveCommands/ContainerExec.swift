import ArgumentParser
import CoveEngine
import CoveLinux

/// `cove exec`: a new process in a running container, through cove-unshare exec.
struct ContainerExec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running container.")
    @Flag(name: .shortAndLong, help: "Run in the background.") var detach = false
    @Flag(name: .shortAndLong, help: "Keep stdin open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a terminal.") var tty = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Set an environment variable.", valueName: "KEY=VALUE")) var env: [String] = []
    @Option(name: .shortAndLong, help: "Working directory.") var workdir: String?
    @Option(name: .shortAndLong, help: "User to run as (uid[:gid]).") var user: String?
    @Flag(name: .long, help: "Give the process every capability.") var privileged = false
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "The container.") var container: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    func run() throws {
        guard !command.isEmpty else { throw failingUsage("exec needs a command after the container") }
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        let r = try failing125 { try engine.containers.find(container) }
        let code = try failing125 { () throws -> Int32 in
            guard case .running = engine.containers.condition(r) else {
                throw EngineError("container \(r.name) is not running")
            }
            var args: [String] = []
            if tty { args.append("--tty") }
            if detach { args.append("--detach") }
            for e in env {
                if e.contains("=") { args += ["--env", e] } else if let v = Environment.get(e) { args += ["--env", "\(e)=\(v)"] }
            }
            if let workdir { args += ["--cwd", workdir] }
            if let user {
                guard user.split(separator: ":").allSatisfy({ UInt32($0) != nil }) else {
                    throw EngineError("exec --user takes numeric uid[:gid] for now (got \"\(user)\")")
                }
                args += ["--user", user]
            }
            if privileged { for c in DefaultSecurity.allCapabilities { args += ["--cap", c] } }
            return try engine.exec(r, arguments: args + [r.id] + command, interactive: interactive || tty)
        }
        throw ExitCode(code)
    }
}
