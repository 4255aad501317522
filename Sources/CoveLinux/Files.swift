#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

/// Small synchronous file operations for the helpers (no Foundation).
public enum Files {
    public static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open \(path)") }
        defer { close(fd) }
        return try readAll(fd: fd, limit: limit, what: path)
    }

    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    public static func readAll(fd: Int32, limit: Int = 64 << 20, what: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            // A non-blocking fd with nothing more for now: what came so far.
            if n < 0 { if errno == EINTR { continue }; if errno == EAGAIN { break }; throw SyscallError("read \(what)") }
            if n == 0 { break }
            out += buf[0..<n]
            if out.count > limit { throw SyscallError("read \(what)", errno: EFBIG) }
        }
        return out
    }

    public static func writeAll(fd: Int32, _ bytes: [UInt8], what: String) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 { if errno == EINTR { continue }; throw SyscallError("write \(what)") }
            off += n
        }
    }

    /// Writes to an existing file (a /proc knob, say) without creating it.
    public static func writeExisting(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open \(path)") }
        defer { close(fd) }
        try writeAll(fd: fd, Array(text.utf8), what: path)
    }

    /// Writes a whole file under a temporary name and renames it into place,
    /// so that a reader sees the old content or the new, never half. With
    /// `durable` it is synced first, for stores that must survive a crash;
    /// runtime state (gone at reboot anyway) skips the cost.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644,
                                       durable: Bool = true) throws {
        let tmp = "\(path).tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw SyscallError("create \(tmp)") }
        do {
            try writeAll(fd: fd, bytes, what: tmp)
            if durable && fsync(fd) != 0 { throw SyscallError("fsync \(tmp)") }
        } catch {
            close(fd); unlink(tmp); throw error
        }
        close(fd)
        if rename(tmp, path) != 0 { let e = SyscallError("rename \(tmp)"); unlink(tmp); throw e }
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// The target of a symbolic link (or a /proc magic link), or nil.
    public static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `path` made 0700 if missing; true when it is a real directory (not
    /// a link) of this user that no one else may enter, as a per-user
    /// directory under a shared /tmp must be.
    public static func ensurePrivateDirectory(_ path: String) -> Bool {
        if mkdir(path, 0o700) != 0 && errno != EEXIST { return false }
        var st = stat()
        return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFDIR && st.st_uid == geteuid() && st.st_mode & 0o077 == 0
    }

    /// Mode and owner, following links.
    public static func modeAndOwner(_ path: String) -> (mode: UInt32, uid: UInt32)? {
        var st = stat()
        return stat(path, &st) == 0 ? (st.st_mode, st.st_uid) : nil
    }

    /// Whether `path` is a character or block device, and its numbers.
    public static func deviceNumbers(_ path: String) -> (char: Bool, major: Int64, minor: Int64)? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        let type = st.st_mode & S_IFMT
        guard type == S_IFCHR || type == S_IFBLK else { return nil }
        let r = UInt64(st.st_rdev)
        let major = Int64(((r >> 8) & 0xfff) | ((r >> 32) & ~UInt64(0xfff)))
        let minor = Int64((r & 0xff) | ((r >> 12) & ~UInt64(0xff)))
        return (type == S_IFCHR, major, minor)
    }

    public static func filesystemType(_ path: String) -> Int64? {
        var t: Int64 = 0
        return cove_fs_type(path, &t) == 0 ? t : nil
    }

    public static func hasExtendedAttribute(_ path: String, _ name: String) -> Bool { cove_has_xattr(path, name) == 1 }

    public static func lstatMode(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode : nil
    }
    public static func statMode(_ path: String) -> mode_t? {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_mode : nil
    }
    public static func isDirectory(_ path: String) -> Bool {
        guard let m = statMode(path) else { return false }
        return m & S_IFMT == S_IFDIR
    }

    /// mkdir -p; existing directories are fine.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if isDirectory(path) { return }
        // The usual case, a new directory in one that exists: one call.
        if mkdir(path, mode) == 0 { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST { throw SyscallError("mkdir \(prefix)") }
        }
        if !isDirectory(path) { throw SyscallError("mkdir \(path)", errno: ENOTDIR) }
    }

    /// rm -r of a directory tree this process owns (state directories).
    public static func removeTree(_ path: String) throws {
        guard let m = lstatMode(path) else { return }
        if m & S_IFMT == S_IFDIR {
            for n in try listDirectory(path) { try removeTree(path + "/" + n) }
            if rmdir(path) != 0 && errno != ENOENT { throw SyscallError("remove \(path)") }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw SyscallError("remove \(path)")
        }
    }

    public static func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SyscallError("open directory \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Closes every open fd numbered `from` or above, but those in `keep`.
    public static func closeDescriptors(from low: Int32, except keep: [Int32]) {
        let dirFD = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirFD >= 0, let dir = fdopendir(dirFD) else { return }
        var open: [Int32] = []
        while let e = readdir(dir) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { raw in
                Int32(String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self))
            }
            if let n, n >= low, n != dirFD, !keep.contains(n) { open.append(n) }
        }
        closedir(dir)
        for fd in open { close(fd) }
    }

    public static func realPath(_ path: String) throws -> String {
        guard let p = realpath(path, nil) else { throw SyscallError("resolve \(path)") }
        defer { free(p) }
        return String(cString: p)
    }

    public static func currentDirectory() -> String {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buf, buf.count) != nil else { return "/" }
        return String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Makes `path` absolute against the current directory, without touching
    /// the filesystem, and folds "." and "..".
    public static func absolute(_ path: String, relativeTo base: String? = nil) -> String {
        let joined = path.hasPrefix("/") ? path : (base ?? currentDirectory()) + "/" + path
        return normalize(joined)
    }

    /// The directory part of `path` ("/a/b" → "/a", "/a" → ""); nil
    /// without a slash.
    public static func parent(_ path: String) -> String? {
        path.lastIndex(of: "/").map { String(path[..<$0]) }
    }

    /// Whether two paths lead to one file (device and inode, symlinks followed).
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        var x = stat(), y = stat()
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// Whether `path` still names the file open as `fd` (not replaced or
    /// removed since it was opened).
    public static func isStill(_ fd: Int32, at path: String) -> Bool {
        var x = stat(), y = stat()
        return fstat(fd, &x) == 0 && stat(path, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    public static func normalize(_ path: String) -> String {
        // Over the bytes: "." and ".." are ASCII, and String's split and
        // comparisons cost more than the rest of a container's bundle.
        var out: [UInt8] = []
        out.reserveCapacity(path.utf8.count + 1)
        var starts: [Int] = []
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        var path = path
        path.withUTF8 { b in
            var i = 0
            while i < b.count {
                while i < b.count && b[i] == slash { i += 1 }
                if i == b.count { break }
                var j = i
                while j < b.count && b[j] != slash { j += 1 }
                if j - i == 1 && b[i] == dot {
                } else if j - i == 2 && b[i] == dot && b[i + 1] == dot {
                    if let s = starts.popLast() { out.removeSubrange(s...) }
                } else {
                    starts.append(out.count)
                    out.append(slash)
                    out.append(contentsOf: b[i..<j])
                }
                i = j
            }
        }
        return out.isEmpty ? "/" : String(decoding: out, as: UTF8.self)
    }
}
