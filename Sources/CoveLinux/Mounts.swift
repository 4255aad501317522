#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveModel

/// A config mount's option strings, sorted into what mount(2) takes.
public struct MountOptions: Equatable, Sendable {
    public var flags: UInt = 0
    /// Flags the options clear (rw, suid…): kept so a remount does not add them back.
    public var cleared: UInt = 0
    public var propagation: [UInt] = []
    public var bind = false
    public var recursive = false
    /// Filesystem-specific options, passed as mount(2)'s data.
    public var data: [String] = []
    /// Options that only some runtimes know and that change nothing here.
    public var ignored: [String] = []

    // Switches, not dictionary literals: a table's first use in a fresh
    // process (every init) costs the runtime's generic metadata lookups,
    // scans of this binary's conformances.
    static func flag(_ o: String) -> (set: UInt, clear: UInt)? {
        switch o {
        case "ro": return (COVE_MS_RDONLY, 0)
        case "rw": return (0, COVE_MS_RDONLY)
        case "nosuid": return (COVE_MS_NOSUID, 0)
        case "suid": return (0, COVE_MS_NOSUID)
        case "nodev": return (COVE_MS_NODEV, 0)
        case "dev": return (0, COVE_MS_NODEV)
        case "noexec": return (COVE_MS_NOEXEC, 0)
        case "exec": return (0, COVE_MS_NOEXEC)
        case "sync": return (COVE_MS_SYNCHRONOUS, 0)
        case "async": return (0, COVE_MS_SYNCHRONOUS)
        case "dirsync": return (COVE_MS_DIRSYNC, 0)
        case "remount": return (COVE_MS_REMOUNT, 0)
        case "mand": return (COVE_MS_MANDLOCK, 0)
        case "nomand": return (0, COVE_MS_MANDLOCK)
        case "atime": return (0, COVE_MS_NOATIME)
        case "noatime": return (COVE_MS_NOATIME, 0)
        case "diratime": return (0, COVE_MS_NODIRATIME)
        case "nodiratime": return (COVE_MS_NODIRATIME, 0)
        case "relatime": return (COVE_MS_RELATIME, 0)
        case "norelatime": return (0, COVE_MS_RELATIME)
        case "strictatime": return (COVE_MS_STRICTATIME, 0)
        case "nostrictatime": return (0, COVE_MS_STRICTATIME)
        case "lazytime": return (COVE_MS_LAZYTIME, 0)
        case "nolazytime": return (0, COVE_MS_LAZYTIME)
        case "silent": return (COVE_MS_SILENT, 0)
        case "loud": return (0, COVE_MS_SILENT)
        default: return nil
        }
    }

    /// Propagation string of `rootfsPropagation` as mount(2) flags.
    public static func propagation(named name: String) -> UInt? {
        switch name {
        case "private": return COVE_MS_PRIVATE
        case "rprivate": return COVE_MS_PRIVATE | COVE_MS_REC
        case "shared": return COVE_MS_SHARED
        case "rshared": return COVE_MS_SHARED | COVE_MS_REC
        case "slave": return COVE_MS_SLAVE
        case "rslave": return COVE_MS_SLAVE | COVE_MS_REC
        case "unbindable": return COVE_MS_UNBINDABLE
        case "runbindable": return COVE_MS_UNBINDABLE | COVE_MS_REC
        default: return nil
        }
    }

    /// podman's, crun's and docker's own markers; none asks for anything
    /// mount(2) does here (idmap is the storage issue's).
    static func isIgnored(_ o: String) -> Bool {
        switch o {
        case "tmpcopyup", "notmpcopyup", "copy-symlink", "nocopyup", "z", "Z", "U", "defaults", "private-volume",
             "rro", "rrw", "idmap", "ridmap", "noswap":
            return true
        default: return o.hasPrefix("idmap=")
        }
    }

    public init(_ options: [String]) {
        for o in options {
            if o == "bind" { bind = true; continue }
            if o == "rbind" { bind = true; recursive = true; continue }
            if let f = MountOptions.flag(o) {
                flags = (flags | f.set) & ~f.clear
                cleared = (cleared | f.clear) & ~f.set
                continue
            }
            if let p = MountOptions.propagation(named: o) { propagation.append(p); continue }
            if MountOptions.isIgnored(o) { ignored.append(o); continue }
            data.append(o)
        }
    }

    public var dataString: String? { data.isEmpty ? nil : data.joinedPlain(",") }
}

public enum Mounts {
    public static func mount(_ source: String?, _ target: String, type: String?, flags: UInt,
                             data: String?, describe: @autoclosure () -> String) throws {
        if cove_mount(source, target, type, flags, data) != 0 { throw SyscallError(describe()) }
    }

    public static func setPropagation(_ target: String, _ flags: UInt, describe: @autoclosure () -> String) throws {
        if cove_mount(nil, target, nil, flags, nil) != 0 { throw SyscallError(describe()) }
    }

    /// Remounts a bind mount with `flags`. In a user namespace the kernel
    /// refuses to drop flags it locked on the source (nosuid, nodev,
    /// noexec, ro, atime): on EPERM, retry keeping those of `source`.
    public static func remountBind(_ target: String, flags: UInt, cleared: UInt = 0, source: String?,
                                   describe: @autoclosure () -> String) throws {
        let base = COVE_MS_BIND | COVE_MS_REMOUNT
        if cove_mount(nil, target, nil, base | flags, nil) == 0 { return }
        let first = errno
        var locked: UInt = 0
        if first == EPERM, cove_mount_flags_of(source ?? target, &locked) == 0 || cove_mount_flags_of(target, &locked) == 0 {
            let atimeMask = COVE_MS_NOATIME | COVE_MS_RELATIME | COVE_MS_STRICTATIME | COVE_MS_NODIRATIME
            var f = flags | (locked & ~atimeMask)
            if flags & atimeMask == 0 { f |= locked & atimeMask }
            if cove_mount(nil, target, nil, base | f, nil) == 0 { return }
        }
        throw SyscallError(describe(), errno: first)
    }

    public static func pivotRoot(_ newRoot: String) throws {
        // pivot_root(".", ".") stacks the old root on the new one; detaching
        // it then needs no put_old directory inside the image.
        try check("chdir \(newRoot)", chdir(newRoot))
        try check("pivot_root \(newRoot)", cove_pivot_root(".", "."))
        try check("detach the old root", cove_umount2(".", COVE_MNT_DETACH))
        try check("chdir /", chdir("/"))
    }

    public static func unmount(_ target: String, detach: Bool = true) throws {
        try check("unmount \(target)", cove_umount2(target, detach ? COVE_MNT_DETACH : 0))
    }
}

/// A directory to build a container's mounts in, opened once: every path
/// under it resolves with RESOLVE_IN_ROOT, so a symlink in the image can
/// never send a mount outside the root.
public struct ConfinedRoot: Sendable {
    public let path: String
    public let fd: Int32

    public init(_ path: String) throws {
        self.path = path
        fd = Glibc.open(path, COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open root \(path)") }
    }

    public func close() { _ = Glibc.close(fd) }

    private func relative(_ p: String) -> String {
        let parts = p.split(separator: "/").filter { $0 != "." && !$0.isEmpty }
        return parts.isEmpty ? "." : parts.joinedPlain("/")
    }

    /// Opens `inside` (a path as the container sees it) as O_PATH.
    public func open(_ inside: String, flags: Int32 = 0) throws -> Int32 {
        let fd = cove_openat2(self.fd, relative(inside), COVE_O_PATH | O_CLOEXEC | flags, 0, COVE_RESOLVE_IN_ROOT)
        if fd < 0 { throw SyscallError("open \(inside) in \(path)") }
        return fd
    }

    /// A small regular file's bytes, `inside` resolved in the root; nil when
    /// it is missing, not a regular file, or larger than `limit`.
    public func readFile(_ inside: String, limit: Int = 1 << 20) -> [UInt8]? {
        let fd = cove_openat2(self.fd, relative(inside), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0, COVE_RESOLVE_IN_ROOT)
        if fd < 0 { return nil }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, Int(st.st_size) <= limit else { return nil }
        return try? Files.readAll(fd: fd, limit: limit, what: inside)
    }

    /// Whether `inside` exists (without following its last component).
    public func exists(_ inside: String) -> Bool {
        let fd = cove_openat2(self.fd, relative(inside), COVE_O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, COVE_RESOLVE_IN_ROOT)
        if fd < 0 { return false }
        Glibc.close(fd)
        return true
    }

    /// `inside` with every symlink resolved as if the root were "/": an
    /// absolute link target or ".." never leaves it. Components that do not
    /// exist yet are kept as they are.
    public func resolve(_ inside: String) throws -> [String] {
        var resolved: [String] = []
        var pending = inside.split(separator: "/").map(String.init)
        var links = 0
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        while !pending.isEmpty {
            let c = pending.removeFirst()
            if c == "." || c.isEmpty { continue }
            if c == ".." { _ = resolved.popLast(); continue }
            let candidate = (resolved + [c]).joinedPlain("/")
            // Every earlier component is a real directory: a plain readlinkat
            // from the root fd cannot leave it.
            let n = readlinkat(fd, candidate, &buf, buf.count - 1)
            if n < 0 {
                resolved.append(c)
                continue
            }
            links += 1
            if links > 40 { throw SyscallError("resolve \(inside) in \(path)", errno: ELOOP) }
            let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/").map(String.init) + pending
        }
        return resolved
    }

    /// mkdir -p inside the root, following symlinks as the container would.
    public func makeDirectories(_ inside: String, mode: mode_t = 0o755) throws {
        let parts = try resolve(inside)
        for i in parts.indices {
            let prefix = Array(parts[...i]).joinedPlain("/")
            if mkdirat(fd, prefix, mode) != 0 && errno != EEXIST {
                throw SyscallError("mkdir /\(prefix) in \(path)")
            }
        }
        // Confirm, confined, that it is a directory now.
        let check = cove_openat2(fd, relative(inside), COVE_O_PATH | O_DIRECTORY | O_CLOEXEC, 0, COVE_RESOLVE_IN_ROOT)
        if check < 0 { throw SyscallError("mkdir \(inside) in \(path)") }
        Glibc.close(check)
    }

    /// Makes sure a file exists at `inside` (a bind target for a file).
    public func makeFile(_ inside: String) throws {
        // There already (symlinks followed, in the root): done. Opening it
        // for writing would have an overlay root copy a lower layer's file
        // up (a directory, a copy and later a removal in the container's
        // upper layer) only to have it covered by the bind mount.
        let existing = cove_openat2(fd, relative(inside), COVE_O_PATH | O_CLOEXEC, 0, COVE_RESOLVE_IN_ROOT)
        if existing >= 0 {
            Glibc.close(existing)
            return
        }
        let parts = try resolve(inside)
        try makeDirectories(Array(parts.dropLast()).joinedPlain("/"))
        let fd = cove_openat2(self.fd, relative(parts.joinedPlain("/")),
                              O_CREAT | O_WRONLY | O_CLOEXEC | O_NOCTTY, 0o644, COVE_RESOLVE_IN_ROOT)
        if fd < 0 {
            // An existing non-regular file (a directory, a device) is fine as
            // a target if it opens at all.
            if errno == EISDIR || errno == EACCES || errno == EROFS || errno == ETXTBSY || errno == ENXIO {
                Glibc.close(try open(inside))
                return
            }
            throw SyscallError("create \(inside) in \(path)")
        }
        Glibc.close(fd)
    }

    /// A path through /proc/self/fd that names `inside` for mount(2), and
    /// the fd to close once mounted.
    public func mountTarget(_ inside: String) throws -> (path: String, fd: Int32) {
        let fd = try open(inside)
        return ("/proc/self/fd/\(fd)", fd)
    }

    public func symlink(_ target: String, at inside: String) throws {
        let dirPart = Array(inside.split(separator: "/").dropLast()).joinedPlain("/")
        let name = String(inside.split(separator: "/").last ?? "")
        let dfd = try open(dirPart, flags: O_DIRECTORY)
        defer { Glibc.close(dfd) }
        if symlinkat(target, dfd, name) != 0 && errno != EEXIST { throw SyscallError("symlink \(inside) in \(path)") }
    }
}
