#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux

/// `cove-fs copy`: the driver for places where no overlay mounts. Unpacked
/// layers (whiteouts as char 0/0, opaque directories marked with
/// user.overlay.opaque) are applied bottom to top into a new directory,
/// made under a temporary sibling name and renamed into place. File data is
/// shared with FICLONE where the filesystem can, else copied.
struct CopyDriver {
    let layers: [String]
    let into: String
    private var reflinks = 0
    private var copies = 0
    private var dirTimes: [([String], timespec, timespec)] = []
    /// This layer's hardlinked inodes already copied: (dev, ino) → path.
    private var linked: [String: [String]] = [:]

    /// With `--path`: only what the layers hold below this directory (a
    /// named volume filled from the image), its components.
    var subpath: [String] = []

    init(layers: [String], into: String) { self.layers = layers; self.into = into }

    /// The layer's directory at `subpath`, or -1 when this layer has none.
    /// A whiteout, a non-directory or an opaque directory on the way hides
    /// what the lower layers put there: `root` is emptied first.
    private func openSubpath(_ layer: Int32, root: Int32) throws -> Int32 {
        var cur = fcntl(layer, F_DUPFD_CLOEXEC, 3)
        if cur < 0 { throw SyscallError("dup layer fd") }
        for name in subpath {
            var st = stat()
            if fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { close(cur); return -1 }
            let type = st.st_mode & S_IFMT
            if type != S_IFDIR {
                // A whiteout (char 0/0) or a file: nothing of the lower layers stays.
                try Tree.removeContents(root)
                close(cur)
                return -1
            }
            let next = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(cur)
            if next < 0 { throw SyscallError("open \(name)") }
            var v: UInt8 = 0
            if cove_fgetxattr(next, "user.overlay.opaque", &v, 1) == 1 && v == UInt8(ascii: "y") {
                try Tree.removeContents(root)
            }
            cur = next
        }
        return cur
    }

    mutating func run() throws -> String {
        let (dir, name) = Tree.split(into)
        let parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent < 0 { throw FsError("open \(dir): \(String(cString: strerror(errno)))") }
        defer { close(parent) }
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            throw FsError("\(into) exists already: remove it first (cove-fs remove)")
        }
        Tree.removeStaleTemporaries(parent)
        let temp = ".tmp-\(getpid())-\(Tree.randomSuffix())"
        if mkdirat(parent, temp, 0o755) != 0 { throw FsError("create \(dir)/\(temp): \(String(cString: strerror(errno)))") }
        do {
            let root = openat(parent, temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if root < 0 { throw SyscallError("open \(temp)") }
            defer { close(root) }
            for l in layers {
                let layer = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                if layer < 0 { throw FsError("open layer \(l): \(String(cString: strerror(errno)))") }
                defer { close(layer) }
                let src = subpath.isEmpty ? fcntl(layer, F_DUPFD_CLOEXEC, 3) : try openSubpath(layer, root: root)
                if src < 0 { continue }
                defer { close(src) }
                linked = [:]
                do {
                    try copyMetadata(from: src, to: root, path: l)
                    try apply(src, root, root: root, parts: [], depth: 0)
                } catch let e as SyscallError { throw FsError("apply layer \(l): \(e)") }
            }
            for (parts, atime, mtime) in dirTimes.reversed() {
                let fd = Tree.openBeneath(root, parts, flags: O_RDONLY)
                if fd < 0 { continue }
                var times = [atime, mtime]
                _ = futimens(fd, &times)
                close(fd)
            }
            if cove_syncfs(root) != 0 { throw SyscallError("sync \(into)") }
            if cove_rename_noreplace(parent, temp, parent, name) != 0 { throw SyscallError("rename \(temp) to \(into)") }
        } catch {
            try? Tree.removeEntry(parent, temp)
            throw error
        }
        return reflinks > 0 || copies > 0
            ? "cove-fs: note: \(reflinks) file(s) reflinked, \(copies) copied\n" : ""
    }

    private mutating func apply(_ src: Int32, _ dst: Int32, root: Int32, parts: [String], depth: Int) throws {
        if depth > 2048 { throw SyscallError("copy a tree deeper than 2048 levels", errno: ELOOP) }
        for name in try Tree.names(src).sorted() {
            let path = parts + [name]
            let shown = path.joined(separator: "/")
            var st = stat()
            if fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("stat \(shown)") }
            let type = st.st_mode & S_IFMT
            var existing = stat()
            let exists = fstatat(dst, name, &existing, AT_SYMLINK_NOFOLLOW) == 0
            if type == S_IFCHR && cove_rdev_is_zero(UInt64(st.st_rdev)) != 0 {
                if exists { try Tree.removeEntry(dst, name) }   // a whiteout: deleted below
                continue
            }
            if type == S_IFDIR {
                let s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if s < 0 { throw SyscallError("open \(shown)") }
                defer { close(s) }
                var v: UInt8 = 0
                let opaque = cove_fgetxattr(s, "user.overlay.opaque", &v, 1) == 1 && v == UInt8(ascii: "y")
                if exists && (existing.st_mode & S_IFMT != S_IFDIR || opaque) { try Tree.removeEntry(dst, name) }
                if mkdirat(dst, name, 0o700) != 0 && errno != EEXIST { throw SyscallError("mkdir \(shown)") }
                let d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                if d < 0 { throw SyscallError("open \(shown)") }
                defer { close(d) }
                try copyMetadata(from: s, to: d, path: shown)
                dirTimes.append((path, st.st_atim, st.st_mtim))
                try apply(s, d, root: root, parts: path, depth: depth + 1)
                continue
            }
            if exists { try Tree.removeEntry(dst, name) }
            let key = "\(st.st_dev):\(st.st_ino)"
            if st.st_nlink > 1, let first = linked[key] {
                let tdir = Tree.openBeneath(root, Array(first.dropLast()))
                if tdir < 0 { throw SyscallError("open \(first.dropLast().joined(separator: "/"))") }
                defer { close(tdir) }
                if linkat(tdir, first[first.count - 1], dst, name, 0) != 0 { throw SyscallError("hardlink \(shown)") }
                continue
            }
            switch type {
            case S_IFREG:
                let s = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                if s < 0 { throw SyscallError("open \(shown)") }
                defer { close(s) }
                let d = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
                if d < 0 { throw SyscallError("create \(shown)") }
                defer { close(d) }
                try copyData(s, d, size: Int(st.st_size), path: shown)
                try copyMetadata(from: s, to: d, path: shown)
                var times = [st.st_atim, st.st_mtim]
                _ = futimens(d, &times)
                if st.st_nlink > 1 { linked[key] = path }
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlinkat(src, name, &buf, buf.count - 1)
                if n < 0 { throw SyscallError("read link \(shown)") }
                buf[n] = 0
                if symlinkat(buf, dst, name) != 0 { throw SyscallError("symlink \(shown)") }
                if fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("chown \(shown)") }
                var times = [st.st_atim, st.st_mtim]
                _ = utimensat(dst, name, &times, AT_SYMLINK_NOFOLLOW)
            case S_IFIFO:
                if mkfifoat(dst, name, 0o600) != 0 { throw SyscallError("make fifo \(shown)") }
                if fchownat(dst, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("chown \(shown)") }
                if fchmodat(dst, name, st.st_mode & 0o7777, 0) != 0 { throw SyscallError("chmod \(shown)") }
                var times = [st.st_atim, st.st_mtim]
                _ = utimensat(dst, name, &times, AT_SYMLINK_NOFOLLOW)
            default:
                continue   // unpack makes no other device nodes
            }
        }
    }

    /// Reflink, else copy_file_range, else read and write.
    private mutating func copyData(_ s: Int32, _ d: Int32, size: Int, path: String) throws {
        if size == 0 { return }
        if cove_ficlone(d, s) == 0 { reflinks += 1; return }
        copies += 1
        var left = size
        while left > 0 {
            let n = cove_copy_file_range(s, d, left)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP { break }
                throw SyscallError("copy \(path)")
            }
            if n == 0 { break }
            left -= n
        }
        if left == 0 { return }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(s, &buf, buf.count)
            if n < 0 { if errno == EINTR { continue }; throw SyscallError("read \(path)") }
            if n == 0 { return }
            try Files.writeAll(fd: d, Array(buf[0..<n]), what: path)
        }
    }

    /// Owner, xattrs but the overlay's own, then mode (after chown).
    private func copyMetadata(from s: Int32, to d: Int32, path: String) throws {
        var st = stat()
        if fstat(s, &st) != 0 { throw SyscallError("stat \(path)") }
        if fchown(d, st.st_uid, st.st_gid) != 0 { throw SyscallError("chown \(path)") }
        var list = [CChar](repeating: 0, count: 65536)
        let n = cove_flistxattr(s, &list, list.count)
        if n > 0 {
            var value = [UInt8](repeating: 0, count: 65536)
            let names = list[0..<n].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
            for name in names where !name.hasPrefix("user.overlay.") {
                let len = cove_fgetxattr(s, name, &value, value.count)
                if len >= 0 { _ = cove_fsetxattr(d, name, value, len) }
            }
        }
        if fchmod(d, st.st_mode & 0o7777) != 0 { throw SyscallError("chmod \(path)") }
    }
}
