#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// Runs config hooks (config.md "POSIX-platform Hooks"): each gets the
/// container's state JSON on stdin, its own args and env, and is killed
/// when its timeout passes. Output goes to cove-unshare's stderr once the
/// hook has exited; when it fails, its last line is the failure's reason,
/// so the error is one line that says what went wrong.
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
        // A file, not a pipe: a hook that daemonizes (cove-net) may keep
        // its stderr, and reading a pipe would wait for that.
        let output = cove_memfd("cove-hook-output")
        defer { if output >= 0 { close(output) } }
        let pid = try Processes.fork()
        if pid == 0 {
            dup2(input[0], 0)
            if output >= 0 { dup2(output, 2) }
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
        try? Files.writeAll(fd: input[1], state.serializedBytes(), what: "\(label) stdin")
        close(input[1])
        signal(SIGPIPE, previous)
        let exit: ExitStatus
        if let t = h.timeout {
            guard let e = try Processes.wait(pid, seconds: Double(t)) else {
                kill(pid, SIGKILL)
                _ = try? Processes.wait(pid)
                for line in hookOutput(output) { _ = (line + "\n").withCString { write(2, $0, strlen($0)) } }
                throw Failure(description: "\(label) timed out after \(t) s")
            }
            exit = e
        } else {
            exit = try Processes.wait(pid)
        }
        var lines = hookOutput(output)
        let reason = exit != .exited(0) ? lines.popLast() : nil
        for line in lines { _ = (line + "\n").withCString { write(2, $0, strlen($0)) } }
        if exit != .exited(0) {
            throw Failure(description: "\(label) failed with status \(exit.code)" + (reason.map { ": " + $0 } ?? ""))
        }
    }

    /// What the hook wrote, as lines (bounded: the last 64 KiB).
    static func hookOutput(_ fd: Int32) -> [String] {
        guard fd >= 0 else { return [] }
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return [] }
        let start = max(0, size - 65536)
        var buf = [UInt8](repeating: 0, count: Int(size - start))
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, start) }
        guard n > 0 else { return [] }
        return String(decoding: buf[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
