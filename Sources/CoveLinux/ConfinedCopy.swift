#if canImport(Glibc)
import Glibc
#endif
import CCoveShim


/// `cove cp` between the host and a running container, through the
/// container's root as /proc/PID/root (its mount namespace, volumes and
/// all). Every path on the container's side is opened with openat2's
/// RESOLVE_IN_ROOT, so a symlink in the container can never lead the copy
/// onto the host's files. Files land owned by the user (the container's root).
public struct ConfinedCopy {
    /// One side of a copy: a directory fd paths are resolved under.
    struct Side {
        let root: Int32
        let resolve: UInt64
        let label: String

        func rel(_ p: String) -> String {
            let parts = p.split(separator: "/").filter { !$0.isEmpty && $0 != "." }
            return parts.isEmpty ? "." : parts.joined(separator: "/")
        }

        func open(_ p: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32 {
            let fd = cove_openat2(root, rel(p), flags | O_CLOEXEC, mode, resolve)
            if fd < 0 { throw SyscallError("open \(label)\(p)") }
            return fd
        }

        func lstat(_ p: String, follow: Bool = false) -> stat? {
            guard let fd = try? open(p, COVE_O_PATH | (follow ? 0 : O_NOFOLLOW)) else { return nil }
            defer { close(fd) }
            var st = stat()
            return fstat(fd, &st) == 0 ? st : nil
        }

        /// The parent directory's fd and the last name, for *at() calls.
        func parent(_ p: String) throws -> (Int32, String) {
            let parts = rel(p).split(separator: "/").map(String.init)
            guard let name = parts.last, name != ".", name != ".." else {
                throw CopyError("cannot copy onto \(label)\(p)")
            }
            return (try open(parts.dropLast().joined(separator: "/"), COVE_O_PATH | O_DIRECTORY), name)
        }
    }

    let pid: Int32

    public init(pid: Int32) { self.pid = pid }

    func containerSide(_ name: String) throws -> Side {
        let fd = open("/proc/\(pid)/root", COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open the root of container \(name)") }
        return Side(root: fd, resolve: COVE_RESOLVE_IN_ROOT, label: "\(name):")
    }

    static func hostSide() throws -> Side {
        let fd = open("/", COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open /") }
        return Side(root: fd, resolve: 0, label: "")
    }

    /// Copies `src` to `dst` as docker does: into `dst` when it is an
    /// existing directory, else to `dst` itself.
    public func copy(fromContainer name: String, _ src: String, toHost dst: String) throws {
        let from = try containerSide(name), to = try Self.hostSide()
        defer { close(from.root); close(to.root) }
        try Self.copy(from, src, to, Files.absolute(dst))
    }

    public func copy(fromHost src: String, toContainer name: String, _ dst: String) throws {
        let from = try Self.hostSide(), to = try containerSide(name)
        defer { close(from.root); close(to.root) }
        try Self.copy(from, Files.absolute(src), to, dst)
    }

    static func copy(_ from: Side, _ src: String, _ to: Side, _ dst: String) throws {
        guard from.lstat(src) != nil else { throw CopyError("\(from.label)\(src): no such file or directory") }
        var target = dst
        // A destination that is a directory (or a link to one, resolved
        // inside the root) receives the source under its own name.
        if let st = to.lstat(dst, follow: true), st.st_mode & S_IFMT == S_IFDIR,
           let base = src.split(separator: "/").last, base != "." {
            target = dst + "/" + base
        }
        var budget = 1_000_000   // entries: a bound on a tree that never ends
        try copyTree(from, src, to, target, budget: &budget)
    }

    static func copyTree(_ from: Side, _ src: String, _ to: Side, _ dst: String, budget: inout Int) throws {
        budget -= 1
        guard budget > 0 else { throw CopyError("too many files under \(from.label)\(src)") }
        guard let st = from.lstat(src) else { throw CopyError("\(from.label)\(src) vanished during the copy") }
        let mode = mode_t(st.st_mode & 0o7777)
        let (dir, name) = try to.parent(dst)
        defer { close(dir) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdirat(dir, name, mode | 0o700) != 0 && errno != EEXIST { throw SyscallError("mkdir \(to.label)\(dst)") }
            let fd = try from.open(src, O_RDONLY | O_DIRECTORY)
            guard let d = fdopendir(fd) else { close(fd); throw SyscallError("read \(from.label)\(src)") }
            var names: [String] = []
            while let e = readdir(d) {
                let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if n != "." && n != ".." { names.append(n) }
            }
            closedir(d)
            for n in names { try copyTree(from, src + "/" + n, to, dst + "/" + n, budget: &budget) }
            _ = fchmodat(dir, name, mode, 0)
        case S_IFREG:
            let input = try from.open(src, O_RDONLY | O_NOFOLLOW)
            defer { close(input) }
            unlinkat(dir, name, 0)
            let output = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if output < 0 { throw SyscallError("create \(to.label)\(dst)") }
            defer { close(output) }
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buf.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EINTR { continue }; throw SyscallError("read \(from.label)\(src)") }
                if n == 0 { break }
                try Files.writeAll(fd: output, Array(buf[0..<n]), what: "\(to.label)\(dst)")
            }
            _ = fchmod(output, mode)
        case S_IFLNK:
            let fd = try from.open(src, COVE_O_PATH | O_NOFOLLOW)
            defer { close(fd) }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlinkat(fd, "", &buf, buf.count - 1)
            if n < 0 { throw SyscallError("readlink \(from.label)\(src)") }
            let linkTarget = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            unlinkat(dir, name, 0)
            if symlinkat(linkTarget, dir, name) != 0 { throw SyscallError("symlink \(to.label)\(dst)") }
        default:
            break   // devices, fifos, sockets: docker skips them too
        }
    }
}

/// A copy that cannot be made: one line for the user.
public struct CopyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
