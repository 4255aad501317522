#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The parent stage of `create` and `run`: it stays in the caller's
/// namespaces, writes the id maps, records the state, and, for a
/// foreground `run`, waits for the container as its subreaper.
enum Launcher {
    struct Request {
        var id: String
        var bundle: String
        var mode: LaunchContext.Mode
        var pidFile: String?
        var consoleSocket: String?
        var preserveFDs: Int32
        /// With --monitor: the container's stdout and stderr go to this
        /// file in docker's json-file format, rotated at `outputLogMax`.
        var outputLog: String? = nil
        var outputLogMax: Int64 = 0
        /// With --monitor: run once the container has ended and its exit is
        /// recorded (conmon's --exit-command: the front's cleanup, `--rm`).
        var exitCommand: [String] = []
        /// --keep: a foreground `run` leaves its state behind.
        var keepState = false
        /// --network-fd: the network helper of the config's annotation,
        /// started by the caller already; this is its channel.
        var networkFD: Int32?
        /// --early-fd: started before the bundle is complete; `.bundleReady`
        /// on this channel says it is (its end: the caller gave up).
        var earlyFD: Int32?
    }

    static func readSpec(bundle: String) throws -> RuntimeSpec {
        let configPath = bundle + "/config.json"
        let text: String
        do { text = try Files.readText(configPath) } catch let e as SyscallError {
            throw RuntimeError("cannot read \(configPath): \(e.reason)", errno: e.errno)
        }
        do { return try RuntimeSpec(text: text) } catch let e as SpecError {
            throw RuntimeError("\(configPath): \(e.field): \(e.reason)", errno: EINVAL)
        }
    }

    static func compileSeccomp(_ spec: RuntimeSpec, store: StateStore, configPath: String) throws -> SeccompFilter? {
        guard let profile = spec.linux?.seccomp else { return nil }
        let cache = SeccompCache(directory: store.root + "/seccomp")
        let filter: SeccompFilter
        do { filter = try cache.filter(for: profile, json: spec.raw["linux"]?["seccomp"] ?? .null) } catch {
            throw RuntimeError("\(configPath): \(error)", errno: EINVAL)
        }
        if !filter.skipped.isEmpty {
            RuntimeLog.logger.debug("seccomp: syscalls unknown here skipped: \(filter.skipped.joined(separator: " "))")
        }
        return filter
    }

    /// `seccomp: false` leaves the filter out (nil): for the parent of an
    /// early start, whose child, init, reads the config and loads it.
    static func prepare(_ r: Request, store: StateStore, seccomp withSeccomp: Bool = true) throws -> LaunchContext {
        let bundle = Files.absolute(r.bundle)
        let configPath = bundle + "/config.json"
        let spec = try readSpec(bundle: bundle)
        guard var process = spec.process else { throw RuntimeError("\(configPath): process is missing", errno: EINVAL) }
        process.relayedTerminalSize(consoleSocket: r.consoleSocket)
        guard !process.args.isEmpty else { throw RuntimeError("\(configPath): process.args is empty", errno: EINVAL) }
        guard let root = spec.root else { throw RuntimeError("\(configPath): root is missing", errno: EINVAL) }
        let linux = spec.linux ?? .empty
        let rootfs = Files.absolute(root.path, relativeTo: bundle)
        guard Files.isDirectory(rootfs) else {
            throw RuntimeError("root filesystem \(rootfs) is not a directory", errno: ENOENT)
        }
        guard linux.namespace(.mount) != nil else {
            throw RuntimeError("\(configPath): a mount namespace is required (add {\"type\": \"mount\"} to linux.namespaces)",
                               errno: EINVAL)
        }
        if process.terminal && r.consoleSocket == nil && r.mode != .run(detach: false) {
            throw RuntimeError("process.terminal is true: pass --console-socket to receive the terminal, "
                + "or run in the foreground", errno: EINVAL)
        }
        if spec.hostname != nil && linux.namespace(.uts) == nil {
            throw RuntimeError("\(configPath): hostname is set but there is no uts namespace", errno: EINVAL)
        }
        for l in process.rlimits where !Limits.isKnown(l.type) {
            throw RuntimeError("\(configPath): unknown rlimit \(l.type)", errno: EINVAL)
        }
        let userNS = linux.namespace(.user)
        let seccomp = withSeccomp ? try compileSeccomp(spec, store: store, configPath: configPath) : nil
        var consoleSocket: Int32 = -1
        if process.terminal, let path = r.consoleSocket {
            consoleSocket = try Terminal.connectConsoleSocket(Files.absolute(path))
        }
        let network = try NetworkHandoff(spec, configPath: configPath)
        return LaunchContext(id: r.id, bundle: bundle, rootfs: rootfs, spec: spec, process: process, linux: linux,
                             mode: r.mode, fifoPath: r.mode == .create ? store.fifoPath(r.id) : nil,
                             preserveFDs: r.preserveFDs, newUserNamespace: userNS != nil && userNS?.path == nil,
                             seccomp: seccomp, consoleSocket: consoleSocket, network: network)
    }

    /// Creates the container; returns the exit code `run` should report.
    /// `onStarted` runs once the container exists (create) or its process
    /// runs (run --detach), with init's pid: the monitor's cue.
    static func launch(_ r: Request, store: StateStore, onStarted: (pid_t) -> Void = { _ in }) throws -> Int32 {
        try StateStore.validate(id: r.id)
        if store.exists(r.id) { throw RuntimeError("container \(r.id) already exists", errno: EEXIST) }
        RuntimeLog.phase("start")
        var keep = false
        var reserved = false
        var initPid: pid_t = 0
        var stagePid: pid_t = 0
        defer {
            if !keep {
                if initPid > 0 { kill(initPid, SIGKILL); _ = try? Processes.wait(initPid) }
                if stagePid > 0 { kill(stagePid, SIGKILL); _ = try? Processes.wait(stagePid) }
                if reserved {
                    FuseRoot.stop(id: r.id, store: store)
                    try? store.remove(r.id)
                }
            }
        }
        if Environment.threadCount() != 1 {
            throw RuntimeError("cove-unshare must be single-threaded to create namespaces", errno: EINVAL)
        }
        // --early-fd: the user namespace and its maps now, while the caller
        // still writes the bundle; the rest once it says the bundle is there.
        var earlyChannel: SyncChannel?
        // --early-fd's channel, kept once the bundle is ready: the
        // foreground run ends by sending the exit code on it.
        var exitReport: SyncChannel?
        defer { exitReport?.close() }
        // A ^C meanwhile (during a pull, say) is the caller's to act on:
        // its end then closes the channel, and we clean up. Ignored from
        // before anything is made, and in the early child too, which sets
        // them back once the bundle is ready. (posix_spawn, which started
        // us, left every disposition at its default.)
        var ignoring = r.earlyFD != nil
        if ignoring { Signals.ignore(Signals.interrupting) }
        defer { if ignoring { Signals.restore(Signals.interrupting) } }
        if let goFD = r.earlyFD {
            try store.reserve(r.id)
            reserved = true
            if case .run(detach: false) = r.mode { try Processes.becomeSubreaper() }
            let (parentEnd, childEnd) = try SyncChannel.pair()
            // With its PID namespace: the child is the container's init, no
            // middle stage to fork it.
            let child = try Processes.fork(namespaces: NamespaceKind.user.cloneFlag | NamespaceKind.pid.cloneFlag)
            if child == 0 {
                parentEnd.close()
                close(goFD)
                SetupStage.runEarly(r, store: store, channel: childEnd)
            }
            initPid = child
            childEnd.close()
            // Unmapped, the child could not even read the config: a
            // failure here is the run's at once.
            try IDMaps.write(pid: child, linux: .empty)
            RuntimeLog.phase("early maps written")
            earlyChannel = parentEnd
            let go = SyncChannel(fd: goFD)
            let said = try? go.receive()
            exitReport = go
            Signals.restore(Signals.interrupting)
            ignoring = false
            // The caller gave up (its own error is the one to report).
            guard said == .bundleReady else { throw CallerGaveUp() }
            RuntimeLog.phase("bundle ready")
            // The child reads the config too, alongside: a config it cannot
            // take (checked below) kills it.
            try parentEnd.send(.bundleReady)
        }
        var ctx = try prepare(r, store: store, seccomp: earlyChannel == nil)
        RuntimeLog.phase("config read")
        if earlyChannel != nil {
            guard ctx.newUserNamespace, ctx.linux.uidMappings.isEmpty, ctx.linux.gidMappings.isEmpty,
                  ctx.linux.namespaces.allSatisfy({ $0.path == nil }), ctx.has(.pid), ctx.has(.network), ctx.has(.ipc),
                  !ctx.has(.time), ctx.consoleSocket < 0, ctx.network == nil || r.networkFD != nil else {
                throw RuntimeError("--early-fd needs a config with new user, PID, network and IPC namespaces (no time "
                                   + "namespace), the default id maps, no namespace to join, no console socket, and "
                                   + "--network-fd for a network helper", errno: EINVAL)
            }
        }
        // As crun: work from the bundle. Relative paths in mount options
        // (an overlay's lowerdir=../../layers/…, l/0:l/1…) resolve there,
        // for init and for a fuse-overlayfs server alike.
        if chdir(ctx.bundle) != 0 { throw SyscallError("chdir to the bundle \(ctx.bundle)") }
        if ctx.linux.resources.map({ !isEmptyResources($0) }) ?? false {
            RuntimeLog.logger.warning("cgroup resources ignored: no delegated cgroup v2 subtree for this user")
        }
        if !reserved {
            try store.reserve(r.id)
            reserved = true
        }
        let lock = try FileLock.acquire(store.directory(r.id) + "/lock")
        defer { close(lock) }
        let created = Clock.rfc3339Now()
        var state = ContainerState(ociVersion: ctx.spec.ociVersion, id: r.id, status: .creating, pid: 0,
                                   bundle: ctx.bundle, rootfs: ctx.rootfs, annotations: ctx.spec.annotations,
                                   pidStartTime: 0, created: created, owner: Environment.get("USER") ?? Environment.userName ?? "")
        try store.save(state)
        if let fifo = ctx.fifoPath, mkfifo(fifo, 0o600) != 0 { throw SyscallError("create \(fifo)") }

        RuntimeLog.phase("state recorded")
        if earlyChannel == nil, case .run(detach: false) = r.mode { try Processes.becomeSubreaper() }
        // Started first, to load while the container is made; init's end
        // goes with init, ours is closed once init exists.
        if ctx.network == nil || earlyChannel != nil, let fd = r.networkFD {
            // The early child sends the helper its arguments itself, ahead
            // of its namespaces on the same channel.
            close(fd)
        } else {
            ctx.networkChannel = try ctx.network?.connect(bundle: ctx.bundle, started: r.networkFD.map { SyncChannel(fd: $0) })
        }
        defer { ctx.networkChannel?.close() }
        let parentEnd: SyncChannel
        var mapsFailure: Error?
        if let earlyChannel {
            // The early child is init: it makes the other namespaces once
            // it has read the config too; its maps are written.
            parentEnd = earlyChannel
        } else {
            let (ours, childEnd) = try SyncChannel.pair()
            parentEnd = ours
            let userFlag = ctx.newUserNamespace ? NamespaceKind.user.cloneFlag : 0
            let child = try Processes.fork(namespaces: ctx.cloneAllAtOnce ? (userFlag | ctx.unshareFlags) & ~ctx.unshareInInit
                                                                      : userFlag)
            if child == 0 {
                parentEnd.close()
                if ctx.cloneAllAtOnce { SetupStage.runAsInit(ctx, channel: childEnd) }
                SetupStage.run(ctx, channel: childEnd)
            }
            RuntimeLog.phase("cloned")
            if ctx.cloneAllAtOnce { initPid = child } else { stagePid = child }
            childEnd.close()
            // The child is in its new user namespace from the clone on: its
            // maps are written now, not when it asks (it waits for them all
            // the same), so newuidmap and newgidmap run while it starts.
            if ctx.newUserNamespace {
                do { try IDMaps.write(pid: child, linux: ctx.linux) } catch { mapsFailure = error }
                RuntimeLog.phase("maps written")
            }
        }
        ctx.networkChannel?.close()
        ctx.networkChannel = nil
        defer { parentEnd.close() }

        if ctx.consoleSocket >= 0 { close(ctx.consoleSocket) }
        var ready = false
        var rootAsked = false
        var relayMaster: Int32 = -1
        defer { if relayMaster >= 0 { close(relayMaster) } }
        // Init may ask for its root before the setup stage has told us its
        // pid (two senders, one channel): then the mount waits for the pid.
        func mountFuseRootIfAsked() throws {
            guard rootAsked, initPid > 0 else { return }
            rootAsked = false
            guard let m = ctx.spec.mounts.first(where: { Files.normalize($0.destination) == "/" }) else { return }
            do { try FuseRoot.mount(m, rootfs: ctx.rootfs, initPid: initPid, ctx: ctx, store: store) } catch {
                try? parentEnd.send(.failure(errno: (error as? RuntimeError)?.errno ?? EIO, message: "\(error)"))
                throw error
            }
            try parentEnd.send(.rootMounted)
        }
        while !ready || initPid == 0 {
            guard let (m, passed) = try parentEnd.receiveWithFD() else {
                throw RuntimeError("container setup ended without a report", errno: EPIPE)
            }
            switch m {
            case .terminal:
                relayMaster = passed
            case .awaitingHooks:
                var creating = state
                creating.pid = initPid
                let doc = creating.publicJSON
                do {
                    try HookRunner.run(ctx.spec.hooks.prestart, kind: "prestart", state: doc)
                    try HookRunner.run(ctx.spec.hooks.createRuntime, kind: "createRuntime", state: doc)
                } catch {
                    try? parentEnd.send(.failure(errno: ECANCELED, message: "\(error)"))
                    throw RuntimeError("\(error)", errno: ECANCELED)
                }
                try parentEnd.send(.hooksDone(state: doc.serialized()))
            case .hooksDone:
                throw RuntimeError("unexpected message from container setup", errno: EBADMSG)
            case .userNamespaceReady:
                RuntimeLog.phase("child asks for maps")
                if let error = mapsFailure {
                    try? parentEnd.send(.failure(errno: EPERM, message: "\(error)"))
                    throw error
                }
                // Only a child in a new user namespace asks; its maps were written after the clone.
                guard ctx.newUserNamespace else { throw RuntimeError("unexpected message from container setup", errno: EBADMSG) }
                try parentEnd.send(.mapsWritten)
            case let .initPid(p):
                initPid = p
                _ = try? Processes.wait(stagePid)
                stagePid = 0
                try mountFuseRootIfAsked()
            case .mountRoot:
                rootAsked = true
                try mountFuseRootIfAsked()
            case .rootMounted:
                throw RuntimeError("unexpected message from container setup", errno: EBADMSG)
            case .ready:
                ready = true
            case .failure, .execFailure:
                throw RuntimeError(reported: m) ?? RuntimeError("container setup failed")
            case .mapsWritten, .handoff, .networkArguments, .bundleReady, .exitCode:
                throw RuntimeError("unexpected message from container setup", errno: EBADMSG)
            }
        }

        RuntimeLog.phase("init ready")
        state.pid = initPid
        state.pidStartTime = Processes.stat(initPid)?.startTime ?? 0
        state.status = r.mode == .create ? .created : .running
        try store.save(state)
        if let pidFile = r.pidFile {
            try Files.writeAtomically(Files.absolute(pidFile), Array("\(initPid)".utf8), durable: false)
        }
        if r.mode == .create {
            keep = true
            onStarted(initPid)
            return 0
        }
        // `run`: init execs right after `ready`; the channel closes on a
        // successful exec (close-on-exec) or carries the reason it failed.
        if let m = try parentEnd.receive(), let failure = RuntimeError(reported: m) {
            _ = try? Processes.wait(initPid)
            initPid = 0
            throw failure
        }
        HookRunner.runWarning(ctx.spec.hooks.poststart, kind: "poststart", state: state.publicJSON)
        if case .run(detach: true) = r.mode {
            keep = true
            onStarted(initPid)
            return 0
        }
        // From here the container exists for good: `run` removes it (or keeps
        // it, with --keep) once its process has ended.
        keep = true
        let status = relayMaster >= 0 ? TerminalRelay(master: relayMaster).run(until: initPid) : waitForeground(initPid)
        initPid = 0
        FuseRoot.stop(id: r.id, store: store)
        if !ctx.spec.hooks.poststop.isEmpty {
            state.status = .stopped
            HookRunner.runWarning(ctx.spec.hooks.poststop, kind: "poststop", state: state.publicJSON)
        }
        // The state goes with the run; an early caller has the code then,
        // not at our exit.
        if !r.keepState { try? store.remove(r.id) }
        try? exitReport?.send(.exitCode(status.code))
        return status.code
    }

    /// Waits for init, passing on the signals a terminal or supervisor
    /// sends to cove-unshare.
    static func waitForeground(_ pid: pid_t) -> ExitStatus {
        let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT]
        let all = [SIGCHLD] + forwarded
        Signals.block(all)
        defer { Signals.unblockAll() }
        while true {
            // Reap first: a SIGCHLD that came before the block is lost.
            while let (p, status) = Processes.reapAny() {
                if p == pid { return status }
            }
            let sig = Signals.wait(all)
            if sig != SIGCHLD && sig > 0 { kill(pid, sig) }
        }
    }

    static func isEmptyResources(_ j: JSON) -> Bool {
        guard let o = j.objectValue else { return true }
        return o.allSatisfy { k, v in
            if v.isNull { return true }
            if k == "devices" { return true }   // device rules: bind mounts already limit what exists
            if let a = v.arrayValue { return a.isEmpty }
            if let inner = v.objectValue { return inner.isEmpty }
            return false
        }
    }
}

/// --early-fd's caller closed the channel before the bundle was ready: it
/// failed, and says why itself.
struct CallerGaveUp: Error {}
