#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// Builds the container's root inside its own mount namespace: the config's
/// mounts under the rootfs, /dev's devices and links, pivot_root, then
/// read-only root, sysctls, masked and read-only paths.
struct RootfsSetup {
    let ctx: LaunchContext
    init(_ ctx: LaunchContext) { self.ctx = ctx }

    static let defaultDevices = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]

    /// `beforePivot` runs once the mounts are in place and host paths are
    /// still visible: where createRuntime and createContainer hooks belong.
    /// `mountFuseRoot` has the parent mount a `fuse-overlayfs` root (see FuseRoot).
    func run(mountFuseRoot: () throws -> Void = {}, beforePivot: () throws -> Void = {}) throws {
        // Nothing mounted here may reach the host: slave by default.
        try Mounts.setPropagation("/", COVE_MS_REC | COVE_MS_SLAVE, describe: "make / a slave mount")
        try Mounts.mount(ctx.rootfs, ctx.rootfs, type: nil, flags: COVE_MS_BIND | COVE_MS_REC, data: nil,
                         describe: "bind the root filesystem \(ctx.rootfs)")
        // A mount on "/" becomes the root itself (a layered root: overlay
        // of image layers and the container's own upper directory), made
        // here in the container's user and mount namespaces, so it goes
        // away with them. It comes first: the other mounts land on it.
        for m in ctx.spec.mounts where Files.normalize(m.destination) == "/" {
            if m.type == "fuse-overlayfs" {
                // The server mounts in a mount namespace of its own (see
                // FuseRoot): the mount reaches ours through this shared
                // bind, then both are made private again, and a bind of
                // the fuse mount on itself becomes the root: pivot_root
                // refuses a root whose parent mount is shared.
                try Mounts.setPropagation(ctx.rootfs, COVE_MS_SHARED, describe: "share \(ctx.rootfs) for the fuse root")
                try mountFuseRoot()
                try Mounts.setPropagation(ctx.rootfs, COVE_MS_PRIVATE, describe: "make the fuse root private")
                try Mounts.mount(ctx.rootfs, ctx.rootfs, type: nil, flags: COVE_MS_BIND, data: nil,
                                 describe: "bind the fuse root \(ctx.rootfs)")
            } else {
                try mountRoot(m)
            }
        }
        let root = try ConfinedRoot(ctx.rootfs)
        defer { root.close() }
        var devMounted = false
        var devptsMounted = false
        for m in ctx.spec.mounts where Files.normalize(m.destination) != "/" {
            let dest = Files.normalize(m.destination)
            try mount(m, at: dest, in: root)
            if dest == "/dev" { devMounted = true }
            if dest == "/dev/pts" { devptsMounted = true }
        }
        RuntimeLog.phase("config mounts")
        try makeDevices(in: root, devMounted: devMounted, devptsMounted: devptsMounted)
        RuntimeLog.phase("devices")
        try? root.makeDirectories(ctx.process.cwd)
        try beforePivot()
        try Mounts.pivotRoot(ctx.rootfs)
        if let p = ctx.linux.rootfsPropagation {
            guard let flags = MountOptions.propagation(named: p) else {
                throw RuntimeError("config.json: linux.rootfsPropagation: unknown value \(p)", errno: EINVAL)
            }
            try Mounts.setPropagation("/", flags, describe: "set / propagation to \(p)")
        }
        if ctx.spec.root?.readonly == true {
            try Mounts.remountBind("/", flags: COVE_MS_RDONLY, source: "/", describe: "remount / read-only")
        }
        RuntimeLog.phase("pivoted")
        try applySysctls()
        for p in ctx.linux.maskedPaths { try mask(p) }
        for p in ctx.linux.readonlyPaths { try makeReadOnly(p) }
    }

    // MARK: config mounts

    func mount(_ m: RuntimeSpec.Mount, at dest: String, in root: ConfinedRoot) throws {
        let o = MountOptions(m.options)
        let type = m.type ?? (o.bind ? "bind" : "")
        if o.bind || type == "bind" {
            try bindMount(m, o, at: dest, in: root)
            return
        }
        try root.makeDirectories(dest)
        let (target, fd) = try root.mountTarget(dest)
        defer { close(fd) }
        let what = "mount \(type) on \(dest)"
        let source = m.source ?? type
        do {
            switch type {
            case "devpts":
                do {
                    try Mounts.mount(source, target, type: type, flags: o.flags, data: o.dataString, describe: what)
                } catch let e as SyscallError where e.errno == EINVAL {
                    // gid=5 does not exist in a single-id user namespace.
                    let data = o.data.filter { !$0.hasPrefix("gid=") }.joined(separator: ",")
                    try Mounts.mount(source, target, type: type, flags: o.flags, data: data, describe: what)
                }
            default:
                try Mounts.mount(source, target, type: type, flags: o.flags, data: o.dataString, describe: what)
            }
        } catch let e as SyscallError where e.errno == EPERM || e.errno == EBUSY || e.errno == EACCES {
            // The kernel refuses sysfs without our own network namespace, proc
            // without our own PID namespace, mqueue without our own IPC
            // namespace, and cgroup often: bind the host's instead.
            let fallback: String?
            switch type {
            case "sysfs": fallback = "/sys"
            case "proc": fallback = "/proc"
            case "mqueue": fallback = Files.isDirectory("/dev/mqueue") ? "/dev/mqueue" : nil
            case "cgroup", "cgroup2": fallback = Files.isDirectory("/sys/fs/cgroup") ? "/sys/fs/cgroup" : nil
            default: fallback = nil
            }
            guard let host = fallback else { throw e }
            do {
                try Mounts.mount(host, target, type: nil, flags: COVE_MS_BIND | COVE_MS_REC, data: nil,
                                 describe: "bind \(host) on \(dest)")
                let (mounted, mfd) = try root.mountTarget(dest)
                defer { close(mfd) }
                let flags = type == "proc" ? o.flags : (o.flags | COVE_MS_RDONLY)
                try Mounts.remountBind(mounted, flags: flags & ~COVE_MS_REMOUNT, source: host,
                                       describe: "remount \(dest)")
            } catch where type == "cgroup" || type == "cgroup2" || type == "mqueue" {
                RuntimeLog.logger.warning("\(type) not mounted on \(dest): \(error)")
            }
        }
    }

    func mountRoot(_ m: RuntimeSpec.Mount) throws {
        let o = MountOptions(m.options)
        let type = m.type ?? (o.bind ? "bind" : "")
        if o.bind || type == "bind" {
            guard let src = m.source else { throw RuntimeError("config.json: bind mount on / has no source", errno: EINVAL) }
            let source = Files.absolute(src, relativeTo: ctx.bundle)
            try Mounts.mount(source, ctx.rootfs, type: nil, flags: COVE_MS_BIND | COVE_MS_REC, data: nil,
                             describe: "bind \(source) as the root")
            if o.flags & ~COVE_MS_REMOUNT != 0 {
                try Mounts.remountBind(ctx.rootfs, flags: o.flags & ~COVE_MS_REMOUNT, source: source,
                                       describe: "apply \(m.options.joined(separator: ",")) to the root")
            }
            return
        }
        try Mounts.mount(m.source ?? type, ctx.rootfs, type: type, flags: o.flags, data: o.dataString,
                         describe: "mount \(type) as the root (\(m.options.joined(separator: ",")))")
    }

    func bindMount(_ m: RuntimeSpec.Mount, _ o: MountOptions, at dest: String, in root: ConfinedRoot) throws {
        guard let src = m.source else { throw RuntimeError("config.json: bind mount on \(dest) has no source", errno: EINVAL) }
        let source = Files.absolute(src, relativeTo: ctx.bundle)
        guard let mode = Files.statMode(source) else { throw SyscallError("bind mount source \(source)") }
        if mode & S_IFMT == S_IFDIR { try root.makeDirectories(dest) } else { try root.makeFile(dest) }
        do {
            let (target, fd) = try root.mountTarget(dest)
            defer { close(fd) }
            try Mounts.mount(source, target, type: nil, flags: COVE_MS_BIND | (o.recursive ? COVE_MS_REC : 0),
                             data: nil, describe: "bind \(source) on \(dest)")
        }
        // A path through an fd opened before the mount names what lies under
        // it: reopen to reach the new mount.
        let (target, fd) = try root.mountTarget(dest)
        defer { close(fd) }
        let extra = o.flags & ~COVE_MS_REMOUNT
        if extra != 0 {
            try Mounts.remountBind(target, flags: extra, cleared: o.cleared, source: source,
                                   describe: "apply \(m.options.joined(separator: ",")) to \(dest)")
        }
        for p in o.propagation { try Mounts.setPropagation(target, p, describe: "set propagation of \(dest)") }
    }

    // MARK: /dev

    /// mknod is refused in a user namespace: the default devices and the
    /// config's are bind mounts of the host's nodes on empty files.
    func makeDevices(in root: ConfinedRoot, devMounted: Bool, devptsMounted: Bool) throws {
        var wanted: [(path: String, device: RuntimeSpec.Device?)] = RootfsSetup.defaultDevices.map { ($0, nil) }
        for d in ctx.linux.devices {
            if let i = wanted.firstIndex(where: { $0.path == d.path }) { wanted[i].device = d } else { wanted.append((d.path, d)) }
        }
        for (p, device) in wanted {
            if device?.type == "p" {
                // A fifo needs no privilege: make it.
                try root.makeDirectories(p.split(separator: "/").dropLast().joined(separator: "/"))
                let dir = try root.open(p.split(separator: "/").dropLast().joined(separator: "/"), flags: O_DIRECTORY)
                defer { close(dir) }
                if mkfifoat(dir, String(p.split(separator: "/").last ?? ""), mode_t(device?.fileMode ?? 0o666)) != 0
                    && errno != EEXIST { throw SyscallError("make fifo \(p)") }
                continue
            }
            guard let source = hostNode(for: p, device) else {
                RuntimeLog.logger.warning("device \(p) skipped: the host has no such node to bind")
                continue
            }
            do {
                try root.makeFile(p)
                let (target, fd) = try root.mountTarget(p)
                defer { close(fd) }
                try Mounts.mount(source, target, type: nil, flags: COVE_MS_BIND, data: nil, describe: "bind device \(p)")
            } catch where !devMounted {
                // An image's own /dev without a tmpfs over it may be read-only.
                RuntimeLog.logger.warning("device \(p) not bound: \(error)")
            }
        }
        guard devMounted else { return }
        for (link, target) in [("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"),
                               ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2"),
                               ("/dev/core", "/proc/kcore")] {
            try root.symlink(target, at: link)
        }
        if devptsMounted { try root.symlink("pts/ptmx", at: "/dev/ptmx") }
    }

    /// The host's node for a device: its own path when the numbers match
    /// (or none are given), else any node in /dev with the same type and
    /// numbers (udev's /dev/char and /dev/block first).
    func hostNode(for path: String, _ device: RuntimeSpec.Device?) -> String? {
        guard let d = device, let major = d.major, let minor = d.minor else {
            return Files.exists(path) ? path : nil
        }
        let char = d.type != "b"
        func matches(_ p: String) -> Bool {
            guard let n = Files.deviceNumbers(p) else { return false }
            return n.char == char && n.major == major && n.minor == minor
        }
        if matches(path) { return path }
        let named = "/dev/\(char ? "char" : "block")/\(major):\(minor)"
        if matches(named) { return named }
        return ((try? Files.listDirectory("/dev")) ?? []).map { "/dev/" + $0 }.first(where: matches)
    }

    // MARK: after pivot_root (paths now resolve inside the container)

    func applySysctls() throws {
        for (key, value) in ctx.linux.sysctl {
            let path = "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
            do { try Files.writeExisting(path, value) } catch let e as SyscallError {
                throw RuntimeError("set sysctl \(key)=\(value): \(e.reason)", errno: e.errno)
            }
        }
    }

    func mask(_ path: String) throws {
        guard let mode = Files.statMode(path) else { return }
        if mode & S_IFMT == S_IFDIR {
            try Mounts.mount("tmpfs", path, type: "tmpfs", flags: COVE_MS_RDONLY, data: nil, describe: "mask \(path)")
        } else {
            try Mounts.mount("/dev/null", path, type: nil, flags: COVE_MS_BIND, data: nil, describe: "mask \(path)")
        }
    }

    func makeReadOnly(_ path: String) throws {
        guard Files.statMode(path) != nil else { return }
        try Mounts.mount(path, path, type: nil, flags: COVE_MS_BIND | COVE_MS_REC, data: nil,
                         describe: "bind \(path) read-only")
        try Mounts.remountBind(path, flags: COVE_MS_RDONLY | COVE_MS_NOSUID | COVE_MS_NODEV | COVE_MS_NOEXEC,
                               source: path, describe: "remount \(path) read-only")
    }
}
