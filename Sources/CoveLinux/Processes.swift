#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

public enum ExitStatus: Equatable, Sendable {
    case exited(Int32)
    case signaled(Int32)

    /// The shell's convention, which docker and podman follow.
    public var code: Int32 {
        switch self {
        case let .exited(c): return c
        case let .signaled(s): return 128 + s
        }
    }

    public init(raw status: Int32) {
        if status & 0x7f == 0 { self = .exited((status >> 8) & 0xff) } else { self = .signaled(status & 0x7f) }
    }
}

public enum Processes {
    /// fork(), optionally into new namespaces (CLONE_NEW* flags).
    public static func fork(namespaces flags: Int32 = 0) throws -> pid_t {
        try check("clone", cove_clone(flags))
    }

    public static func wait(_ pid: pid_t) throws -> ExitStatus {
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, 0)
            if r == pid { return ExitStatus(raw: status) }
            if r < 0 && errno != EINTR { throw SyscallError("wait for process \(pid)") }
        }
    }

    /// Waits at most `seconds` for `pid`; nil when it is still running then
    /// (the caller decides whether to kill it).
    public static func wait(_ pid: pid_t, seconds: Double) throws -> ExitStatus? {
        let deadline = Clock.monotonicMilliseconds() + seconds * 1000
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return ExitStatus(raw: status) }
            if r < 0 && errno != EINTR { throw SyscallError("wait for process \(pid)") }
            if Clock.monotonicMilliseconds() > deadline { return nil }
            usleep(2_000)
        }
    }

    /// Blocks until any child exits: (pid, status), or nil when none is left.
    public static func waitAny() -> (pid_t, ExitStatus)? {
        var status: Int32 = 0
        while true {
            let r = waitpid(-1, &status, 0)
            if r > 0 { return (r, ExitStatus(raw: status)) }
            if errno != EINTR { return nil }
        }
    }

    /// Reaps any exited child without blocking: (pid, status) or nil.
    public static func reapAny() -> (pid_t, ExitStatus)? {
        var status: Int32 = 0
        let r = waitpid(-1, &status, WNOHANG)
        return r > 0 ? (r, ExitStatus(raw: status)) : nil
    }

    public static func signal(_ pid: pid_t, _ sig: Int32) throws {
        try check("kill \(pid)", kill(pid, sig))
    }

    /// The name `ps` shows (comm, 15 bytes): each stage names itself so a
    /// hang shows where it is.
    public static func setName(_ name: String) { _ = cove_set_name(name) }

    /// Whether the caller's own uid may open /proc/PID/ns of this process
    /// after a change of ids cleared the flag.
    public static func setDumpable(_ on: Bool) throws { try check("set dumpable", cove_set_dumpable(on ? 1 : 0)) }

    public static func dieWithParent(_ sig: Int32 = SIGKILL) { _ = cove_set_pdeathsig(sig) }

    /// Undoes dieWithParent.
    public static func keepAfterParent() { _ = cove_set_pdeathsig(0) }

    /// In a child that outlives its caller: a session of its own and stdio
    /// on /dev/null, so that no terminal's signal reaches it and nothing
    /// reading the caller's output waits for it; with `keeping`, every
    /// other fd from 3 up closed as well.
    public static func detachFromCaller(keeping: [Int32]? = nil) {
        _ = setsid()
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 {
            for fd: Int32 in 0...2 { dup2(null, fd) }
            if null > 2 { close(null) }
        }
        if let keeping { Files.closeDescriptors(from: 3, except: keeping) }
    }

    public static func becomeSubreaper() throws { try check("become child subreaper", cove_set_child_subreaper()) }

    /// State letter and start time (clock ticks after boot) from
    /// /proc/PID/stat, or nil when no such process exists.
    public static func stat(_ pid: pid_t) -> (state: Character, startTime: UInt64)? {
        guard let text = try? Files.readText("/proc/\(pid)/stat") else { return nil }
        // comm may hold spaces and parentheses: fields start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        guard fields.count > 19, let st = fields[0].first, let start = UInt64(fields[19]) else { return nil }
        return (st, start)
    }

    /// True while `pid` is the process that started at `startTime` and has
    /// not exited (a zombie counts as exited).
    public static func isAlive(_ pid: pid_t, startTime: UInt64) -> Bool {
        guard pid > 0, let s = stat(pid) else { return false }
        if startTime != 0 && s.startTime != startTime { return false }
        return s.state != "Z" && s.state != "X" && s.state != "x"
    }

    /// execve; returns only on failure, with errno set.
    public static func exec(_ path: String, _ args: [String], _ env: [String]) -> Int32 {
        var cargs = args.map { strdup($0) } + [nil]
        var cenv = env.map { strdup($0) } + [nil]
        execve(path, &cargs, &cenv)
        let e = errno
        for p in cargs { free(p) }
        for p in cenv { free(p) }
        return e
    }

    /// Runs a program to completion with stdout to /dev/null and stderr
    /// captured; used for newuidmap/newgidmap.
    public static func run(_ path: String, _ args: [String]) throws -> (ExitStatus, String) {
        try finish(try start(path, args))
    }

    /// A program started by `start`: its pid and the read end of its stderr.
    public struct Started: Sendable {
        public let pid: pid_t
        public let stderrFD: Int32
        public let path: String
    }

    /// `run` in two halves, so two programs can run at once (newuidmap and
    /// newgidmap for one namespace: their exec and checks overlap).
    public static func start(_ path: String, _ args: [String]) throws -> Started {
        var pipefd: [Int32] = [0, 0]
        try check("pipe", cove_pipe_cloexec(&pipefd))
        let devnull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if devnull >= 0 { close(devnull) } }
        // posix_spawn (a vfork) rather than fork: no copy of the caller's
        // page tables, and the caller goes on as soon as the exec is done.
        var options = Spawn.Options()
        options.fds = [(2, pipefd[1])]
        if devnull >= 0 { options.fds += [(0, devnull), (1, devnull)] }
        let pid: pid_t
        do {
            pid = try Spawn.spawn(path, [path] + args, env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], options: options)
        } catch {
            close(pipefd[0])
            close(pipefd[1])
            throw error
        }
        close(pipefd[1])
        return Started(pid: pid, stderrFD: pipefd[0], path: path)
    }

    /// Reads the program's stderr to its end and waits for it.
    public static func finish(_ p: Started) throws -> (ExitStatus, String) {
        let err = (try? Files.readAll(fd: p.stderrFD, limit: 1 << 20, what: p.path)) ?? []
        close(p.stderrFD)
        let status = try wait(p.pid)
        return (status, String(decoding: err, as: UTF8.self))
    }
}

public enum Environment {
    public static func get(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        return String(cString: v)
    }

    public static var userName: String? {
        guard let pw = getpwuid(getuid()) else { return get("USER") }
        return String(cString: pw.pointee.pw_name)
    }

    /// The program's own threads: the helpers refuse to unshare when not alone.
    public static func threadCount() -> Int {
        (try? Files.listDirectory("/proc/self/task").count) ?? 1
    }

    public static func findExecutable(_ name: String, path: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        for dir in path.split(separator: ":") {
            let p = "\(dir)/\(name)"
            if let m = Files.statMode(p), m & S_IFMT == S_IFREG, access(p, X_OK) == 0 { return p }
        }
        return nil
    }
}

public enum Signals {
    public static func block(_ sigs: [Int32]) {
        _ = sigs.withUnsafeBufferPointer { cove_block_signals($0.baseAddress, Int32($0.count)) }
    }
    public static func unblockAll() { _ = cove_unblock_all_signals() }

    /// What a terminal or a supervisor sends to stop a foreground program.
    public static let interrupting = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Ignores `sigs` (dispositions, not masks: a child inherits them).
    public static func ignore(_ sigs: [Int32]) { for s in sigs { signal(s, SIG_IGN) } }

    /// Back to the default disposition.
    public static func restore(_ sigs: [Int32]) { for s in sigs { signal(s, SIG_DFL) } }
    public static func wait(_ sigs: [Int32]) -> Int32 {
        sigs.withUnsafeBufferPointer { cove_wait_signal($0.baseAddress, Int32($0.count)) }
    }

    static let names: [String: Int32] = [
        "HUP": SIGHUP, "INT": SIGINT, "QUIT": SIGQUIT, "ILL": SIGILL, "TRAP": SIGTRAP, "ABRT": SIGABRT,
        "IOT": SIGABRT, "BUS": SIGBUS, "FPE": SIGFPE, "KILL": SIGKILL, "USR1": SIGUSR1, "SEGV": SIGSEGV,
        "USR2": SIGUSR2, "PIPE": SIGPIPE, "ALRM": SIGALRM, "TERM": SIGTERM, "STKFLT": SIGSTKFLT,
        "CHLD": SIGCHLD, "CONT": SIGCONT, "STOP": SIGSTOP, "TSTP": SIGTSTP, "TTIN": SIGTTIN, "TTOU": SIGTTOU,
        "URG": SIGURG, "XCPU": SIGXCPU, "XFSZ": SIGXFSZ, "VTALRM": SIGVTALRM, "PROF": SIGPROF,
        "WINCH": SIGWINCH, "IO": SIGIO, "POLL": SIGIO, "PWR": SIGPWR, "SYS": SIGSYS,
    ]

    /// A signal by number ("15"), name ("TERM", "SIGTERM", "term") or
    /// real-time name ("RTMIN+3").
    public static func parse(_ text: String) -> Int32? {
        if let n = Int32(text) { return n >= 0 && n <= 64 ? n : nil }   // 0 probes for existence
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        if let s = names[name] { return s }
        let rtmin = Int32(34), rtmax = Int32(64)
        if name == "RTMIN" { return rtmin }
        if name == "RTMAX" { return rtmax }
        if name.hasPrefix("RTMIN+"), let k = Int32(name.dropFirst(6)), rtmin + k <= rtmax { return rtmin + k }
        if name.hasPrefix("RTMAX-"), let k = Int32(name.dropFirst(6)), rtmax - k >= rtmin { return rtmax - k }
        return nil
    }
}
