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
        let deadline = h.timeout.map { Clock.monotonicMilliseconds() + Double($0) * 1000 }
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw SyscallError("wait for \(label)") }
            if let d = deadline, Clock.monotonicMilliseconds() > d {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw Failure(description: "\(label) timed out after \(h.timeout ?? 0) s")
            }
            if deadline != nil { usleep(2_000) }
        }
        let exit = ExitStatus(raw: status)
        if exit != .exited(0) { throw Failure(description: "\(label) failed with status \(exit.code)") }
    }
}
