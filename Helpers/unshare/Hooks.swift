#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// Runs config hooks (config.md "POSIX-platform Hooks"): each gets the
/// container's state JSON on stdin, its own args and env, and is killed
/// when its timeout passes. Output goes to cove-unshare's stderr.
enum HookRunner {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ hooks: [RuntimeSpec.Hook], kind: String, state: JSON) throws {
        for (i, h) in hooks.enumerated() { try run(h, label: "\(kind) hook \(i) (\(h.path))", state: state) }
    }

    /// For poststart and poststop: a failure is a warning, and the rest run.
    static func runWarning(_ hooks: [RuntimeSpec.Hook], kind: String, state: JSON) {
        for (i, h) in hooks.enumerated() {
            do { try run(h, label: "\(kind) hook \(i) (\(h.path))", state: state) } catch {
                RuntimeLog.logger.warning("\(error)")
            }
        }
    }

    static func run(_ h: RuntimeSpec.Hook, label: String, state: JSON) throws {
        var input: [Int32] = [0, 0]
        try check("pipe", cove_pipe_cloexec(&input))
        let pid = try Processes.fork()
        if pid == 0 {
            dup2(input[0], 0)
            dup2(2, 1)
            signal(SIGPIPE, SIG_DFL)
            Signals.unblockAll()
            let args = h.args.isEmpty ? [h.path] : h.args
            let e = Processes.exec(h.path, args, h.env)
            let msg = "cove-unshare: \(label): exec: \(SyscallError("", errno: e).reason)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
            _exit(127)
        }
        close(input[0])
        // State documents are small: the pipe's buffer holds them whole, and
        // a hook that does not read them is not an error.
        let previous = signal(SIGPIPE, SIG_IGN)
        try? Files.writeAll(fd: input[1], Array(state.serialized().utf8), what: "\(label) stdin")
        close(input[1])
        signal(SIGPIPE, previous)
        let exit: ExitStatus
        if let t = h.timeout {
            guard let e = try Processes.wait(pid, seconds: Double(t)) else {
                kill(pid, SIGKILL)
                _ = try? Processes.wait(pid)
                throw Failure(description: "\(label) timed out after \(t) s")
            }
            exit = e
        } else {
            exit = try Processes.wait(pid)
        }
        if exit != .exited(0) { throw Failure(description: "\(label) failed with status \(exit.code)") }
    }
}
