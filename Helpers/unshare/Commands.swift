#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// One function per OCI runtime command; each returns the exit code.
enum Commands {
    static func create(_ a: Arguments, store: StateStore) throws -> Int32 {
        let r = try request(a, mode: .create)
        if a.flags.contains("monitor") { return try Monitor.launch(r, store: store) }
        return try Launcher.launch(r, store: store)
    }

    static func run(_ a: Arguments, store: StateStore) throws -> Int32 {
        let detach = a.flags.contains("detach")
        if a.flags.contains("monitor") {
            guard detach else { throw Arguments.UsageError(description: "--monitor is for run --detach (a foreground run is its own monitor)") }
            return try Monitor.launch(request(a, mode: .run(detach: true)), store: store)
        }
        return try Launcher.launch(request(a, mode: .run(detach: detach)), store: store)
    }

    static func request(_ a: Arguments, mode: LaunchContext.Mode) throws -> Launcher.Request {
        var preserve: Int32 = 0
        if let p = a.values["preserve-fds"] {
            guard let n = Int32(p), n >= 0 else { throw Arguments.UsageError(description: "--preserve-fds \(p) is not a count") }
            preserve = n
        }
        // Absolute now: launch works from inside the bundle.
        var r = Launcher.Request(id: try a.operand(0, "a container id"), bundle: Files.absolute(a.values["bundle"] ?? "."),
                                 mode: mode, pidFile: a.values["pid-file"].map { Files.absolute($0) },
                                 consoleSocket: a.values["console-socket"].map { Files.absolute($0) },
                                 preserveFDs: preserve)
        if let log = a.values["output-log"] {
            guard a.flags.contains("monitor") else {
                throw Arguments.UsageError(description: "--output-log needs --monitor (the monitor writes the log)")
            }
            r.outputLog = Files.absolute(log)
        }
        r.keepState = a.flags.contains("keep")
        if let path = a.values["exit-command"] {
            guard a.flags.contains("monitor") else {
                throw Arguments.UsageError(description: "--exit-command needs --monitor (the monitor runs it)")
            }
            r.exitCommand = [path] + (a.lists["exit-command-arg"] ?? [])
        }
        // A channel the caller passed: an open fd above stdio, made ours
        // alone (close-on-exec: not the container's, nor any helper's).
        func channelFD(_ name: String) throws -> Int32? {
            guard let f = a.values[name] else { return nil }
            guard let n = Int32(f), n >= 3, fcntl(n, F_GETFD) >= 0 else {
                throw Arguments.UsageError(description: "--\(name) \(f) is not an open descriptor")
            }
            _ = fcntl(n, F_SETFD, FD_CLOEXEC)
            return n
        }
        r.networkFD = try channelFD("network-fd")
        r.earlyFD = try channelFD("early-fd")
        if r.earlyFD != nil && mode != .run(detach: false) {
            throw Arguments.UsageError(description: "--early-fd is for run in the foreground")
        }
        if let m = a.values["output-log-max"] {
            guard let n = Int64(m), n >= 0 else { throw Arguments.UsageError(description: "--output-log-max \(m) is not a size in bytes") }
            r.outputLogMax = n
        }
        return r
    }

    static func start(_ a: Arguments, store: StateStore) throws -> Int32 {
        let id = try a.operand(0, "a container id")
        var state = try store.load(id)
        return try store.locked(id) {
            state = try store.load(id)
            guard state.status == .created else {
                throw RuntimeError("cannot start container \(id): it is \(state.status.rawValue), not created", errno: EINVAL)
            }
            let fifo = store.fifoPath(id)
            let fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd < 0 {
                throw RuntimeError("cannot start container \(id): its init is gone (\(SyscallError("", errno: errno).reason))",
                                   errno: ESRCH)
            }
            var byte: UInt8 = 0
            let n = write(fd, &byte, 1)
            close(fd)
            if n != 1 { throw SyscallError("start container \(id)") }
            unlink(fifo)
            state.status = .running
            try store.save(state)
            if let spec = try? Launcher.readSpec(bundle: state.bundle), !spec.hooks.poststart.isEmpty {
                // runtime-spec: poststart runs after the user's process is
                // executed. init runs startContainer hooks, then execs; its
                // name (cove:init) changes at exec. Bounded by those hooks'
                // timeouts, or ten seconds.
                let bound = spec.hooks.startContainer.reduce(10.0) { $0 + Double($1.timeout ?? 0) }
                let deadline = Clock.monotonicMilliseconds() + bound * 1000
                while Clock.monotonicMilliseconds() < deadline,
                      let comm = try? Files.readText("/proc/\(state.pid)/comm"), comm.hasPrefix("cove:init") {
                    usleep(1_000)
                }
                HookRunner.runWarning(spec.hooks.poststart, kind: "poststart", state: state.publicJSON)
            }
            return 0
        }
    }

    static func state(_ a: Arguments, store: StateStore) throws -> Int32 {
        let s = try store.load(try a.operand(0, "a container id"))
        print(s.publicJSON.serialized(pretty: true))
        return 0
    }

    static func kill(_ a: Arguments, store: StateStore) throws -> Int32 {
        let id = try a.operand(0, "a container id")
        let signalText = a.operands.count > 1 ? a.operands[1] : "SIGTERM"
        guard let sig = Signals.parse(signalText) else {
            throw RuntimeError("unknown signal \(signalText)", errno: EINVAL)
        }
        let s = try store.load(id)
        guard s.status == .created || s.status == .running else {
            throw RuntimeError("cannot kill container \(id): it is \(s.status.rawValue)", errno: ESRCH)
        }
        if a.flags.contains("all") {
            for pid in ContainerProcesses.list(initPid: s.pid) where pid != s.pid { Glibc.kill(pid, sig) }
        }
        try Processes.signal(s.pid, sig)
        return 0
    }

    static func delete(_ a: Arguments, store: StateStore) throws -> Int32 {
        let id = try a.operand(0, "a container id")
        let force = a.flags.contains("force")
        let s: ContainerState
        do { s = try store.load(id) } catch let e as RuntimeError where e.errno == ENOENT && force {
            // Nothing left to delete; a forced delete is already done.
            if Files.isDirectory(store.directory(id)) { try store.remove(id) }
            return 0
        }
        let live = s.status == .created || s.status == .running
            || (s.status == .creating && Processes.isAlive(s.pid, startTime: s.pidStartTime))
        if live {
            guard force else {
                throw RuntimeError("cannot delete container \(id): it is \(s.status.rawValue) (stop it, or use --force)",
                                   errno: EBUSY)
            }
            let pids = ContainerProcesses.list(initPid: s.pid)
            for pid in pids { Glibc.kill(pid, SIGKILL) }
            Glibc.kill(s.pid, SIGKILL)
            // Bounded: SIGKILL takes effect within milliseconds.
            var waited = 0
            while Processes.isAlive(s.pid, startTime: s.pidStartTime) && waited < 1000 {
                usleep(10_000)
                waited += 1
            }
        }
        // A fuse-overlayfs root outlives init until stopped (see FuseRoot).
        FuseRoot.stop(id: id, store: store)
        let spec = try? Launcher.readSpec(bundle: s.bundle)
        try store.remove(id)
        if let hooks = spec?.hooks.poststop, !hooks.isEmpty {
            var stopped = s
            stopped.status = .stopped
            HookRunner.runWarning(hooks, kind: "poststop", state: stopped.publicJSON)
        }
        return 0
    }

    static func list(_ a: Arguments, store: StateStore) throws -> Int32 {
        let states = store.ids().compactMap { try? store.load($0) }
        if a.flags.contains("quiet") {
            for s in states { print(s.id) }
            return 0
        }
        switch a.values["format"] ?? "table" {
        case "json":
            print(JSON.array(states.map(\.publicJSON)).serialized())
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            for s in states {
                rows.append([s.id, String(s.status == .stopped ? 0 : s.pid), s.status.rawValue, s.bundle, s.created, s.owner])
            }
            var widths = [Int](repeating: 0, count: 6)
            for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
            for r in rows {
                print(r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count + 3) }.joined())
            }
        case let f:
            throw RuntimeError("unknown format \(f) (table or json)", errno: EINVAL)
        }
        return 0
    }

    static func spec(_ a: Arguments) throws -> Int32 {
        let dir = a.values["bundle"] ?? "."
        let path = dir + "/config.json"
        if Files.exists(path) { throw RuntimeError("\(path) exists: remove it first", errno: EEXIST) }
        let json = DefaultSpec.make(rootless: a.flags.contains("rootless"), uid: getuid(), gid: getgid())
        try Files.writeAtomically(path, Array((json.serialized(pretty: true) + "\n").utf8))
        return 0
    }

    static func ps(_ a: Arguments, store: StateStore) throws -> Int32 {
        let s = try store.load(try a.operand(0, "a container id"))
        var pids = s.status == .stopped ? [] : ContainerProcesses.list(initPid: s.pid)
        if pids.isEmpty && s.status != .stopped { pids = [s.pid] }
        switch a.values["format"] ?? "table" {
        case "json": print(JSON.array(pids.map { .int($0) }).serialized())
        case "table":
            print("PID    CMD")
            for p in pids {
                let cmd = ((try? Files.read("/proc/\(p)/cmdline")) ?? []).split(separator: 0)
                    .map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
                print("\(p)" + String(repeating: " ", count: max(1, 7 - "\(p)".count)) + cmd)
            }
        case let f: throw RuntimeError("unknown format \(f) (table or json)", errno: EINVAL)
        }
        return 0
    }

    static func features() -> Int32 {
        print(Features.json.serialized(pretty: true))
        return 0
    }
}

/// Processes that share the container init's PID namespace, found through
/// /proc (no cgroup is needed).
enum ContainerProcesses {
    static func list(initPid: pid_t) -> [pid_t] {
        guard let target = namespaceLink(initPid) else { return [] }
        if target == namespaceLink(getpid()) { return [] }   // shared with us: only init is the container's
        return ((try? Files.listDirectory("/proc")) ?? []).compactMap { Int32($0) }.filter { namespaceLink($0) == target }
    }

    static func namespaceLink(_ pid: pid_t) -> String? { Files.readLink("/proc/\(pid)/ns/pid") }
}
