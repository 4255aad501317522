#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

/// Starting programs from a process that may be multithreaded (the front):
/// posix_spawn, never fork without exec. glibc's posix_spawn uses
/// CLONE_VM|CLONE_VFORK and reports a failed exec as its return value, so
/// "not found" reaches the caller as an errno, not as a child's exit code.
public enum Spawn {
    public struct Options {
        /// Child fd → the parent's fd placed there (dup2). Unlisted fds
        /// 0…2 are inherited; every other fd should be close-on-exec.
        public var fds: [(child: Int32, parent: Int32)] = []
        /// A new session (setsid): the child outlives the caller's terminal.
        public var newSession = false
        public var workingDirectory: String?
        public init() {}
    }

    public static func spawn(_ path: String, _ args: [String], env: [String], options: Options = Options()) throws -> pid_t {
        var cargs = args.map { strdup($0) } + [nil]
        var cenv = env.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) }; for p in cenv { free(p) } }
        let child = options.fds.map(\.child), parent = options.fds.map(\.parent)
        var pid: pid_t = 0
        let rc = child.withUnsafeBufferPointer { c in
            parent.withUnsafeBufferPointer { p in
                cove_spawn(&pid, path, &cargs, &cenv, c.baseAddress, p.baseAddress, Int32(c.count),
                           options.newSession ? 1 : 0, options.workingDirectory)
            }
        }
        if rc != 0 { throw SyscallError("start \(path)", errno: rc) }
        return pid
    }

    /// The current environment as KEY=VALUE strings.
    public static var currentEnvironment: [String] {
        var out: [String] = []
        var p = environ
        while let s = p.pointee { out.append(String(cString: s)); p += 1 }
        return out
    }

    /// Runs a program to completion, capturing stdout and stderr (each up
    /// to `limit` bytes). stdin is /dev/null.
    public static func capture(_ path: String, _ args: [String], env: [String]? = nil,
                               limit: Int = 4 << 20) throws -> (status: ExitStatus, out: [UInt8], err: [UInt8]) {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        try check("pipe", cove_pipe_cloexec(&outPipe))
        try check("pipe", cove_pipe_cloexec(&errPipe))
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var o = Options()
        o.fds = [(0, null), (1, outPipe[1]), (2, errPipe[1])]
        let pid: pid_t
        do {
            pid = try spawn(path, [path] + args, env: env ?? currentEnvironment, options: o)
        } catch {
            for fd in [outPipe[0], outPipe[1], errPipe[0], errPipe[1], null] { close(fd) }
            throw error
        }
        close(outPipe[1]); close(errPipe[1]); close(null)
        // Both pipes at once, so a chatty stderr cannot block stdout.
        var out: [UInt8] = [], err: [UInt8] = []
        var open = [outPipe[0], errPipe[0]]
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while !open.isEmpty {
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&pfds, nfds_t(pfds.count), -1) < 0 { if errno == EINTR { continue }; break }
            for p in pfds where p.revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    close(p.fd); open.removeAll { $0 == p.fd }
                    continue
                }
                if p.fd == outPipe[0] { if out.count < limit { out += buf[0..<n] } } else if err.count < limit { err += buf[0..<n] }
            }
        }
        return (try Processes.wait(pid), out, err)
    }

    /// Runs a helper in the foreground: our stdout, stderr and terminal,
    /// signals passed on (`Processes.waitForwardingSignals`). `input`, when
    /// given, is its stdin (small: it must fit a pipe). The helper may
    /// write a failure's one line to fd 3; that text comes back with the
    /// exit status, for the caller to word its own error.
    public static func runReporting(_ path: String, _ args: [String],
                                    input: [UInt8]? = nil) throws -> (status: ExitStatus, report: String) {
        var report: [Int32] = [-1, -1], stdinPipe: [Int32] = [-1, -1]
        try check("pipe", cove_pipe_cloexec(&report))
        defer { for fd in report + stdinPipe where fd >= 0 { close(fd) } }
        var o = Options()
        o.fds = [(3, report[1])]
        if let input {
            try check("pipe", cove_pipe_cloexec(&stdinPipe))
            guard input.count < 65536, input.withUnsafeBytes({ write(stdinPipe[1], $0.baseAddress, $0.count) }) == input.count else {
                throw SyscallError("write a helper's input", errno: errno)
            }
            close(stdinPipe[1]); stdinPipe[1] = -1
            o.fds.append((0, stdinPipe[0]))
        }
        let pid = try spawn(path, [path] + args, env: currentEnvironment, options: o)
        close(report[1]); report[1] = -1
        let status = Processes.waitForwardingSignals(pid)
        // Non-blocking: whatever the helper wrote is there now; a leftover
        // writer (none is expected) must not hold us.
        _ = fcntl(report[0], F_SETFL, O_NONBLOCK)
        let text = (try? Files.readAll(fd: report[0], limit: 1 << 16, what: "a helper's report")) ?? []
        return (status, String(decoding: text, as: UTF8.self))
    }
}

extension Processes {
    /// Waits for `pid`, passing on the signals a supervisor sends us with
    /// kill(2) (INT, TERM, HUP, QUIT, USR1, USR2, WINCH, CONT). Handlers
    /// write each signal to a pipe, polled with the child's pidfd, so the
    /// wait ends on whichever comes first. `exitReport`: a channel on
    /// which the child may send its exit code (`.exitCode`) before it
    /// exits: the wait ends then, the child left unreaped (cove-unshare
    /// --early-fd, whose exit after its report is its own business).
    public static func waitForwardingSignals(_ pid: pid_t, exitReport: SyncChannel? = nil) -> ExitStatus {
        let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT]
        var relay: [Int32] = [-1, -1]
        let pidfd = cove_pidfd_open(pid)
        if pidfd < 0 || cove_pipe_cloexec(&relay) != 0 {
            if pidfd >= 0 { close(pidfd) }
            return (try? wait(pid)) ?? .exited(255)
        }
        _ = fcntl(relay[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(relay[1], F_SETFL, O_NONBLOCK)
        _ = forwarded.withUnsafeBufferPointer { cove_relay_signals($0.baseAddress, Int32($0.count), relay[1]) }
        defer {
            _ = forwarded.withUnsafeBufferPointer { cove_restore_signals($0.baseAddress, Int32($0.count)) }
            close(relay[0]); close(relay[1]); close(pidfd)
        }
        var buf = [UInt8](repeating: 0, count: 64)
        var report = exitReport?.fd ?? -1
        while true {
            var pfds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
                        pollfd(fd: relay[0], events: Int16(POLLIN), revents: 0),
                        pollfd(fd: report, events: Int16(POLLIN), revents: 0)]
            if poll(&pfds, 3, -1) < 0 && errno != EINTR { return (try? wait(pid)) ?? .exited(255) }
            if pfds[2].revents != 0, let exitReport {
                // Anything but the code (its end closed: a failure) leaves
                // the wait to the pidfd.
                if case let .exitCode(code)?? = try? exitReport.receive() { return .exited(code) }
                report = -1
            }
            if pfds[1].revents != 0 {
                let n = buf.withUnsafeMutableBytes { read(relay[0], $0.baseAddress, $0.count) }
                var i = 0
                // A terminal's signals (^C, ^\\, a hangup) reach the child's
                // process group already; pass on only what a process sent us.
                while i + 1 < n {
                    if buf[i + 1] == 0 { Glibc.kill(pid, Int32(buf[i])) }
                    i += 2
                }
            }
            if pfds[0].revents != 0 {
                var status: Int32 = 0
                let r = waitpid(pid, &status, 0)
                return r == pid ? ExitStatus(raw: status) : .exited(255)
            }
        }
    }

    /// Reaps children that are left (helpers reparented to a subreaper),
    /// waiting at most `seconds` for them to end; true when none is left.
    @discardableResult
    public static func reapRemaining(seconds: Double) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + seconds * 1000
        // Helpers end within a millisecond or so of the container (cove-net
        // watches its pidfd): SIGCHLD, blocked and waited for, says when,
        // rather than a poll that oversleeps. Blocked before the first
        // look, so that an exit between a look and the wait stays pending.
        var chld = sigset_t()
        sigemptyset(&chld)
        sigaddset(&chld, SIGCHLD)
        var old = sigset_t()
        pthread_sigmask(SIG_BLOCK, &chld, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        while true {
            var status: Int32 = 0
            let r = waitpid(-1, &status, WNOHANG)
            if r > 0 { continue }
            if r < 0 { return true }   // ECHILD: none left
            let left = deadline - Clock.monotonicMilliseconds()
            if left <= 0 { return false }
            // At most 5 ms per wait: with other threads in the process a
            // SIGCHLD may go to one of them and be lost to this wait.
            let wait = min(left, 5)
            var ts = timespec(tv_sec: 0, tv_nsec: Int(wait * 1_000_000))
            _ = sigtimedwait(&chld, nil, &ts)
        }
    }
}
