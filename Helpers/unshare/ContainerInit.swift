#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// The container's init: builds the root, applies the process settings,
/// reports `ready`, waits for `start` (create) and execs the process.
enum ContainerInit {
    static func run(_ ctx: LaunchContext, channel: SyncChannel) -> Never {
        Processes.setName("cove:init")
        var reportToStderr = false
        do {
            var fifo: Int32 = -1
            if let path = ctx.fifoPath {
                // O_RDWR does not block; the read below does, until `start`
                // writes a byte. Opened before pivot_root hides the path.
                fifo = open(path, O_RDWR | O_CLOEXEC)
                if fifo < 0 { throw SyscallError("open \(path)") }
            }
            RuntimeLog.phase("init started")
            if let network = ctx.network, let netChannel = ctx.networkChannel {
                try network.handOver(on: netChannel, earlyTap: ctx.earlyTap)
                RuntimeLog.phase("network handed over")
            }
            var hookState: JSON?
            try RootfsSetup(ctx).run(mountFuseRoot: {
                // Becoming root of a namespace that maps 0 elsewhere than the
                // caller (keep-id) cleared the dumpable flag: the parent
                // could not open our /proc/PID/ns files to join them.
                try Processes.setDumpable(true)
                try channel.send(.mountRoot)
                guard let m = try channel.receive() else { _exit(1) }
                if case let .failure(e, message) = m { throw RuntimeError(message, errno: e) }
                guard m == .rootMounted else { throw RuntimeError("unexpected message while waiting for the root", errno: EBADMSG) }
            }, beforePivot: {
                hookState = try runCreateHooks(ctx, channel: channel)
            })
            RuntimeLog.phase("root built")
            if let h = ctx.spec.hostname { try Namespaces.setHostname(h) }
            if let d = ctx.spec.domainname { try Namespaces.setDomainname(d) }
            for l in ctx.process.rlimits { try Limits.set(l.type, soft: l.soft, hard: l.hard) }
            if let adj = ctx.process.oomScoreAdj {
                try? Files.writeExisting("/proc/self/oom_score_adj", String(adj))
            }
            if ctx.process.terminal { try setUpTerminal(ctx.process, consoleSocket: ctx.consoleSocket, channel: channel) }
            let exe = try resolveExecutable(ctx.process)
            umask(mode_t(ctx.process.user.umask ?? 0o022))
            RuntimeLog.phase("process resolved")
            // As late as can be, with only the process's confinement left:
            // the helper has had init's whole setup to get ready.
            if let network = ctx.network, let netChannel = ctx.networkChannel {
                try network.awaitReady(on: netChannel)
                netChannel.close()
                RuntimeLog.phase("network up")
            }
            try channel.send(.ready)
            if fifo >= 0 {
                reportToStderr = true
                var byte: UInt8 = 0
                while read(fifo, &byte, 1) < 0 {
                    if errno != EINTR { throw SyscallError("wait for start") }
                }
                close(fifo)
            }
            if let state = hookState, !ctx.spec.hooks.startContainer.isEmpty {
                try HookRunner.run(ctx.spec.hooks.startContainer, kind: "startContainer",
                                   state: state.setting("status", .string("running")))
            }
            try confineAndExec(ctx.process, exe: exe, seccomp: ctx.seccomp, preserveFDs: ctx.preserveFDs)
        } catch {
            SetupStage.report(error, channel: channel)
            if reportToStderr {
                let line = "cove-unshare: \(error)\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
            }
            _exit(exitCode(for: error))
        }
    }

    /// With hooks in the config: the parent runs prestart and createRuntime
    /// while init waits, then init runs createContainer in the container's
    /// mount namespace before pivot_root. Returns the state document for
    /// the later hooks, or nil when there are none.
    static func runCreateHooks(_ ctx: LaunchContext, channel: SyncChannel) throws -> JSON? {
        let h = ctx.spec.hooks
        guard !(h.prestart.isEmpty && h.createRuntime.isEmpty && h.createContainer.isEmpty
                && h.startContainer.isEmpty) else { return nil }
        try channel.send(.awaitingHooks)
        guard let m = try channel.receive() else { _exit(1) }
        guard case let .hooksDone(text) = m else {
            if case let .failure(_, message) = m { throw RuntimeError(message) }
            throw RuntimeError("unexpected message while waiting for hooks", errno: EBADMSG)
        }
        let state = try JSON.parse(text)
        try HookRunner.run(h.createContainer, kind: "createContainer", state: state)
        return state
    }

    /// The last steps, shared with `exec`: seccomp, user and capabilities,
    /// cwd, no_new_privs, fds, exec. Returns only by throwing.
    static func confineAndExec(_ process: RuntimeSpec.Process, exe: String, seccomp: SeccompFilter?,
                               preserveFDs: Int32) throws -> Never {
        // Without no_new_privs the filter needs CAP_SYS_ADMIN, which the
        // user switch may drop: load it first then (runc's order), and
        // otherwise as the very last step.
        RuntimeLog.phase("confining")
        if let s = seccomp, !process.noNewPrivileges { try s.load() }
        RuntimeLog.phase("seccomp loaded")
        try applyUserAndCapabilities(process)
        RuntimeLog.phase("user and capabilities set")
        if chdir(process.cwd) != 0 { throw SyscallError("chdir to cwd \(process.cwd)") }
        if process.noNewPrivileges { try Identity.setNoNewPrivileges() }
        // Only stdio and the preserved fds reach the process.
        _ = cove_cloexec_from(3)
        for fd in 3..<(3 + preserveFDs) { _ = cove_clear_cloexec(fd) }
        Signals.unblockAll()
        if let s = seccomp, process.noNewPrivileges { try s.load() }
        RuntimeLog.phase("exec")
        let e = Processes.exec(exe, process.args, process.env)
        throw ExecError(description: "exec \(process.args[0]): \(SyscallError("", errno: e).reason)", errno: e)
    }

    /// A pty from the container's devpts: the slave becomes /dev/console
    /// and the process's stdio; the master goes to the console socket, or
    /// to the foreground `run` that relays it.
    static func setUpTerminal(_ process: RuntimeSpec.Process, consoleSocket: Int32, channel: SyncChannel) throws {
        let (master, slave) = try Terminal.openPair()
        defer { close(master) }
        if Files.isDirectory("/dev") {
            let fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o600)
            if fd >= 0 {
                close(fd)
                try Mounts.mount(slave, "/dev/console", type: nil, flags: COVE_MS_BIND, data: nil,
                                 describe: "bind \(slave) on /dev/console")
            }
        }
        let size = process.consoleSize.map { (rows: $0.height, cols: $0.width) }
        try Terminal.attach(slave: slave, size: size)
        if consoleSocket >= 0 {
            try Terminal.send(master: master, over: consoleSocket)
            close(consoleSocket)
        } else {
            try channel.send(.terminal, fd: master)
        }
    }

    /// 127 when the program is not there, 126 when it cannot run, as a shell.
    static func exitCode(for error: Error) -> Int32 {
        guard let x = error as? ExecError else { return 1 }
        return x.errno == ENOENT ? 127 : 126
    }

    /// Finds args[0] on the process's PATH inside the container before
    /// `ready`, so a missing program fails `create`, not a later `start`.
    /// The message keeps the words podman maps to exit codes 127 and 126.
    static func resolveExecutable(_ process: RuntimeSpec.Process) throws -> String {
        let name = process.args[0]
        if name.contains("/") {
            let path = name.hasPrefix("/") ? name : Files.absolute(name, relativeTo: process.cwd)
            guard let mode = Files.statMode(path) else {
                throw ExecError(description: "exec \(name): no such file or directory", errno: ENOENT)
            }
            if mode & S_IFMT == S_IFDIR || mode & 0o111 == 0 {
                throw ExecError(description: "exec \(name): permission denied", errno: EACCES)
            }
            return name
        }
        for dir in process.searchPath.split(separator: ":") {
            let p = "\(dir)/\(name)"
            if let mode = Files.statMode(p), mode & S_IFMT == S_IFREG, mode & 0o111 != 0 { return p }
        }
        throw ExecError(description: "exec \(name): executable file not found in $PATH: no such file or directory",
                        errno: ENOENT)
    }

    /// Bounding set, then the user with keep-caps so permitted survives
    /// setuid, then effective/permitted/inheritable, then ambient.
    static func applyUserAndCapabilities(_ process: RuntimeSpec.Process) throws {
        guard let caps = process.capabilities else {
            try switchUser(process.user)
            return
        }
        let bounding = Capabilities.values(caps.bounding), effective = Capabilities.values(caps.effective)
        let permitted = Capabilities.values(caps.permitted), inheritable = Capabilities.values(caps.inheritable)
        let ambient = Capabilities.values(caps.ambient)
        let unknown = bounding.unknown + effective.unknown + permitted.unknown + inheritable.unknown + ambient.unknown
        if !unknown.isEmpty {
            RuntimeLog.logger.warning("capabilities unknown to this kernel ignored: \(Set(unknown).sorted().joined(separator: ", "))")
        }
        try Capabilities.dropBounding(keeping: bounding.known)
        try Capabilities.setKeepCaps(true)
        try switchUser(process.user)
        try Capabilities.setKeepCaps(false)
        try Capabilities.set(effective: effective.known, permitted: permitted.known, inheritable: inheritable.known)
        try Capabilities.raiseAmbient(ambient.known)
    }

    static func switchUser(_ user: RuntimeSpec.User) throws {
        let setgroupsAllowed = (try? Files.readText("/proc/self/setgroups"))?.hasPrefix("allow") ?? true
        if setgroupsAllowed {
            try Identity.setGroups(user.additionalGids)
        } else if !user.additionalGids.isEmpty && user.additionalGids != [user.gid] {
            RuntimeLog.logger.warning("additional groups ignored: setgroups is denied in this user namespace")
        }
        do { try Identity.setIDs(uid: user.uid, gid: user.gid) } catch let e as SyscallError where e.errno == EINVAL {
            throw SyscallError(e.operation, errno: e.errno,
                               hint: "the id is not mapped in the container's user namespace")
        }
    }
}
