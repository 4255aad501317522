#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The middle stage: born in the new user namespace (or the caller's), it
/// waits for its maps, joins the namespaces given by path, creates the
/// others, and forks init, which is PID 1 when a PID namespace is new. It
/// reports init's pid and exits; init is reparented to the launcher (a
/// subreaper for `run`) or to the caller's subreaper (conmon, for podman).
enum SetupStage {
    static func run(_ ctx: LaunchContext, channel: SyncChannel) -> Never {
        Processes.setName("cove:setup")
        Processes.dieWithParent()
        closeInheritedDescriptors(ctx, channel: channel)
        do {
            if let path = ctx.linux.namespace(.user)?.path {
                try Namespaces.join(.user, path: path)
                try? Identity.setIDs(uid: 0, gid: 0)
            }
            try awaitMaps(ctx, channel: channel)
            // Join before creating: a new namespace is owned by the user
            // namespace the process is in at that moment. The mount namespace
            // goes last as it changes what paths mean.
            for kind in [NamespaceKind.ipc, .uts, .network, .pid, .cgroup, .time, .mount] {
                if let path = ctx.linux.namespace(kind)?.path { try Namespaces.join(kind, path: path) }
            }
            let flags = ctx.unshareFlags
            RuntimeLog.phase("joined namespaces")
            if flags != 0 { try Namespaces.unshare(flags) }
            RuntimeLog.phase("unshared namespaces")
            let pid = try Processes.fork()
            if pid == 0 { ContainerInit.run(ctx, channel: channel) }
            try channel.send(.initPid(pid))
            _exit(0)
        } catch {
            report(error, channel: channel)
            _exit(1)
        }
    }

    /// --early-fd: born in the new user and PID namespaces before the
    /// bundle was complete, PID 1: the container's init. It makes
    /// LaunchContext.madeDuringMaps, waits for the parent's word (maps
    /// written, bundle ready), reads the config itself, sends the network
    /// helper its arguments, makes the other namespaces and goes on as init.
    /// The parent checks the config wants this shape (see launch).
    static func runEarly(_ r: Launcher.Request, store: StateStore, channel: SyncChannel) -> Never {
        Processes.setName("cove:init")
        Processes.dieWithParent()
        do {
            try Namespaces.unshare(LaunchContext.madeDuringMaps)
            // For the network helper the caller started (--network-fd), its
            // tap now, while the maps are written: with the defaults, which
            // the config may change (and not persistent until used). A
            // failure here is left to init to meet again and report.
            let tap = r.networkFD == nil ? -1
                : (try? ContainerTap.create(mtu: ContainerTap.defaultMTU, ipv6: false, persistent: false)) ?? -1
            guard let m = try channel.receive(), m == .bundleReady else { _exit(1) }
            // The parent ignored these while the caller worked (see launch).
            Signals.restore(Signals.interrupting)
            // The maps are written (the parent says so only after).
            try? Identity.setIDs(uid: 0, gid: 0)
            var ctx = try Launcher.prepare(r, store: store)
            if chdir(ctx.bundle) != 0 { throw SyscallError("chdir to the bundle \(ctx.bundle)") }
            if let network = ctx.network, let fd = r.networkFD {
                ctx.networkChannel = try network.connect(bundle: ctx.bundle, started: SyncChannel(fd: fd))
                ctx.earlyTap = tap
            } else {
                if let fd = r.networkFD { close(fd) }
                // Not wanted after all: closed, it goes.
                if tap >= 0 { close(tap) }
            }
            closeInheritedDescriptors(ctx, channel: channel)
            let made = LaunchContext.madeDuringMaps | NamespaceKind.pid.cloneFlag
            let flags = ctx.unshareFlags & ~made
            if flags != 0 { try Namespaces.unshare(flags) }
            RuntimeLog.phase("unshared namespaces")
            // As a forked init would be: not killed with the runtime.
            Processes.keepAfterParent()
            ContainerInit.run(ctx, channel: channel)
        } catch {
            report(error, channel: channel)
            _exit(1)
        }
    }

    /// The child of a clone(2) that made every namespace: it is init.
    static func runAsInit(_ ctx: LaunchContext, channel: SyncChannel) -> Never {
        closeInheritedDescriptors(ctx, channel: channel)
        do {
            if ctx.unshareInInit != 0 { try Namespaces.unshare(ctx.unshareInInit) }
            try awaitMaps(ctx, channel: channel)
        } catch {
            report(error, channel: channel)
            _exit(1)
        }
        ContainerInit.run(ctx, channel: channel)
    }

    /// The container gets stdio and the preserved fds, nothing else the
    /// caller had open: a waiting init must not hold a caller's pipe.
    static func closeInheritedDescriptors(_ ctx: LaunchContext, channel: SyncChannel) {
        Files.closeDescriptors(from: 3 + ctx.preserveFDs,
                               except: [channel.fd, RuntimeLog.fd, ctx.consoleSocket, ctx.networkChannel?.fd ?? -1, ctx.earlyTap])
    }

    /// In a new user namespace, waits until the parent has written the maps.
    static func awaitMaps(_ ctx: LaunchContext, channel: SyncChannel) throws {
        guard ctx.newUserNamespace else { return }
        try channel.send(.userNamespaceReady)
        guard let m = try channel.receive(), m == .mapsWritten else { _exit(1) }
        // Become root of the new namespace where root is mapped; the
        // namespace's creator holds every capability in it either way.
        try? Identity.setIDs(uid: 0, gid: 0)
    }

    static func report(_ error: Error, channel: SyncChannel) {
        switch error {
        case let x as ExecError: try? channel.send(.execFailure(errno: x.errno, message: x.description))
        case let s as SyscallError: try? channel.send(.failure(errno: s.errno, message: "\(error)"))
        case let r as RuntimeError: try? channel.send(.failure(errno: r.errno, message: "\(error)"))
        default: try? channel.send(.failure(errno: EINVAL, message: "\(error)"))
        }
    }
}

/// The container's program could not be found or executed.
struct ExecError: Error, CustomStringConvertible {
    let description: String
    let errno: Int32
}
