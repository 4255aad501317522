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
        // The container gets stdio and the preserved fds, nothing else the
        // caller had open: a waiting init must not hold a caller's pipe.
        Files.closeDescriptors(from: 3 + ctx.preserveFDs, except: [channel.fd, RuntimeLog.fd])
        do {
            if let path = ctx.linux.namespace(.user)?.path {
                try Namespaces.join(.user, path: path)
                try? Identity.setIDs(uid: 0, gid: 0)
            }
            if ctx.newUserNamespace {
                try channel.send(.userNamespaceReady)
                guard let m = try channel.receive(), m == .mapsWritten else { _exit(1) }
                // Become root of the new namespace where root is mapped; the
                // namespace's creator holds every capability in it either way.
                try? Identity.setIDs(uid: 0, gid: 0)
            }
            // Join before creating: a new namespace is owned by the user
            // namespace the process is in at that moment. The mount namespace
            // goes last as it changes what paths mean.
            for kind in [NamespaceKind.ipc, .uts, .network, .pid, .cgroup, .time, .mount] {
                if let path = ctx.linux.namespace(kind)?.path { try Namespaces.join(kind, path: path) }
            }
            let flags = ctx.unshareFlags
            if flags != 0 { try Namespaces.unshare(flags) }
            let pid = try Processes.fork()
            if pid == 0 { ContainerInit.run(ctx, channel: channel) }
            try channel.send(.initPid(pid))
            _exit(0)
        } catch {
            report(error, channel: channel)
            _exit(1)
        }
    }

    static func report(_ error: Error, channel: SyncChannel) {
        let e: Int32
        switch error {
        case let s as SyscallError: e = s.errno
        case let r as RuntimeError: e = r.errno
        default: e = EINVAL
        }
        try? channel.send(.failure(errno: e, message: "\(error)"))
    }
}
