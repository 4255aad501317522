#if canImport(Glibc)
import Glibc
#endif
import CArchive
import CCoveShim
import CoveLinux
import CoveModel

/// `cove-fs unpack`: one layer blob into `<dir>`, made in a temporary
/// sibling and renamed into place, inside the user namespace. Every file is
/// made with *at() calls relative to a directory fd opened with
/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so even a missed check cannot
/// write outside the layer.
struct LayerUnpack {
    struct Options {
        var blob: String
        var diffID: String
        var into: String
        var lowers: [String]
        var maxSize: UInt64
        var maxEntries: UInt64
        var collapseOwners: Bool
    }

    /// An entry the layer may not hold: the layer is refused with it.
    struct Refused: Error, CustomStringConvertible {
        let entry: String
        let why: String
        var description: String { "entry \"\(entry)\" \(why)" }
    }

    let options: Options

    /// Runs in the user namespace; returns the note lines for stderr.
    func run() throws -> String {
        let (dir, name) = Tree.split(options.into)
        let parent = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent < 0 { throw FsError("open \(dir): \(String(cString: strerror(errno))) (the layer store must exist)") }
        defer { close(parent) }
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            throw FsError("\(options.into) exists already: remove it first (cove-fs remove)")
        }
        Tree.removeStaleTemporaries(parent)
        // Each layer is a tree of its own: with the layer store marked a
        // top of directory hierarchies (chattr +T), ext4 places each new
        // layer directory in a fresh block group (Orlov) rather than beside
        // its siblings. It matters where the store's group is full of
        // recently deleted inodes: without a journal, ext4 skips each of
        // them, one buffer lookup apiece, for every file it creates there
        // (find_inode_bit, recently_deleted), and a layer of 5,000 small
        // files took seconds instead of a tenth of one. Elsewhere
        // (xfs, btrfs, tmpfs: no such flag) it is a no-op.
        _ = cove_set_topdir(parent)
        let temp = ".tmp-\(getpid())-\(Tree.randomSuffix())"
        if mkdirat(parent, temp, 0o755) != 0 { throw FsError("create \(dir)/\(temp): \(String(cString: strerror(errno)))") }
        do {
            let notes = try unpack(parent: parent, temp: temp)
            if cove_rename_noreplace(parent, temp, parent, name) != 0 {
                throw FsError("rename \(dir)/\(temp) to \(options.into): \(String(cString: strerror(errno)))")
            }
            return notes
        } catch {
            try? Tree.removeEntry(parent, temp)
            throw error
        }
    }

    private func unpack(parent: Int32, temp: String) throws -> String {
        let root = openat(parent, temp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if root < 0 { throw FsError("open \(temp): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        var lowers: [Int32] = []
        defer { for fd in lowers { close(fd) } }
        for l in options.lowers {
            let fd = open(l, COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw FsError("open lower layer \(l): \(String(cString: strerror(errno)))") }
            lowers.append(fd)
        }
        let stream = try HashingStream(blob: options.blob, limit: options.maxSize)
        let tar: LayerTar
        do { tar = try LayerTar(stream: stream) } catch {
            throw FsError("layer \(options.diffID) (blob \(options.blob)): not a tar archive, plain or compressed "
                + "with gzip or zstd: \(error)")
        }
        var writer = LayerWriter(root: root, lowers: lowers, options: options)
        defer { writer.closeCache() }
        do {
            try writer.readAll(tar)
        } catch let r as Refused {
            throw FsError("layer \(options.diffID) refused: \(r)")
        }
        try stream.drain()
        let digest = stream.digest()
        if digest != options.diffID {
            throw FsError("layer \(digest) does not match its diff_id \(options.diffID) (blob \(options.blob)); refused")
        }
        try writer.finish()
        if cove_syncfs(root) != 0 { throw FsError("sync \(options.into): \(String(cString: strerror(errno)))") }
        return writer.notes(compression: stream.compression)
    }
}

/// Writes a layer's entries under `root`, in tar order.
struct LayerWriter {
    let root: Int32
    let lowers: [Int32]
    let options: LayerUnpack.Options
    /// Non-directories made so far, by path: hardlink targets must be here.
    private var files: Set<String> = []
    /// Directories with their tar mtime, set once their content is in.
    private var dirTimes: [([String], timespec, timespec)] = []
    private var skippedDevices = 0
    private var skippedXattrs: Set<String> = []
    private var unmappedOwners = 0
    private var written: UInt64 = 0
    /// Declared sizes: a sparse entry of a few data bytes may declare 16 TiB,
    /// which a copy (the copy driver) would write out in full.
    private var apparent: UInt64 = 0
    private var cachedParent: (parts: [String], fd: Int32)?

    init(root: Int32, lowers: [Int32], options: LayerUnpack.Options) {
        self.root = root; self.lowers = lowers; self.options = options
    }

    mutating func readAll(_ tar: LayerTar) throws {
        var count: UInt64 = 0
        while true {
            var entry: OpaquePointer?
            let r = archive_read_next_header(tar.handle, &entry)
            if r == ARCHIVE_EOF { return }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
                if tar.stream.total > tar.stream.limit {
                    throw LayerUnpack.Refused(entry: "number \(count + 1)",
                                              why: "makes the layer expand beyond \(options.maxSize) bytes (--max-size)")
                }
                throw FsError("layer \(options.diffID): read entry \(count + 1): \(tar.lastError)")
            }
            count += 1
            let raw = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            if count > options.maxEntries {
                throw LayerUnpack.Refused(entry: raw, why: "is past the bound of \(options.maxEntries) entries (--max-entries)")
            }
            try write(entry, raw: raw, tar: tar)
        }
    }

    private mutating func write(_ e: OpaquePointer, raw: String, tar: LayerTar) throws {
        let parsed: LayerPath
        switch LayerPath.parse(raw) {
        case let .failure(why): throw LayerUnpack.Refused(entry: raw, why: why.description)
        case let .success(p): parsed = p
        }
        switch parsed {
        case .aufsMetadata: return
        case .root:
            if archive_entry_filetype(e) == 0o040000 {
                let fd = Tree.openBeneath(root, [], flags: O_RDONLY)
                if fd < 0 { throw SyscallError("open the layer root") }
                defer { close(fd) }
                try applyMetadata(fd: fd, e, raw: raw)
                dirTimes.append(([], LayerWriter.atime(e), LayerWriter.mtime(e)))
            }
        case let .opaque(parent):
            guard let dfd = try openParent(parent + ["x"], raw: raw, forWhiteout: true) else { return }
            let fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw SyscallError("open \(raw)") }
            defer { close(fd) }
            if cove_fsetxattr(fd, "user.overlay.opaque", "y", 1) != 0 {
                throw SyscallError("mark \(parent.joined(separator: "/"))/ opaque (user.overlay.opaque)",
                                   hint: "the layer store's filesystem must take user.* xattrs")
            }
        case let .whiteout(parent, name):
            guard let dfd = try openParent(parent + [name], raw: raw, forWhiteout: true) else { return }
            var st = stat()
            // An entry of this layer with the same name wins over its whiteout.
            if fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { return }
            if cove_mknod_whiteout(dfd, name) != 0 {
                throw SyscallError("make the whiteout for \((parent + [name]).joined(separator: "/"))")
            }
        case let .entry(parts):
            try writeEntry(e, parts: parts, raw: raw, tar: tar)
        }
    }

    private mutating func writeEntry(_ e: OpaquePointer, parts: [String], raw: String, tar: LayerTar) throws {
        let path = parts.joined(separator: "/")
        let name = parts[parts.count - 1]
        guard let dfd = try openParent(parts, raw: raw) else { return }
        let type = archive_entry_filetype(e)
        let isHardlink = archive_entry_hardlink(e) != nil
        // Files and directories are made first and an existing one dealt
        // with on EEXIST (tar order rarely repeats a name); the rest clear
        // the way before.
        if isHardlink || (type != 0o100000 && type != 0o040000) { try clear(dfd, name, path: path) }
        if let link = archive_entry_hardlink(e).map({ String(cString: $0) }) {
            try hardlink(link, at: parts, dfd: dfd, raw: raw)
            files.insert(path)
            return
        }
        switch type {
        case 0o040000:
            if mkdirat(dfd, name, 0o700) != 0 {
                guard errno == EEXIST else { throw SyscallError("mkdir \(path)") }
                var st = stat()
                // A directory again: its metadata changes, its content stays.
                if fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_mode & S_IFMT != S_IFDIR {
                    try clear(dfd, name, path: path)
                    if mkdirat(dfd, name, 0o700) != 0 { throw SyscallError("mkdir \(path)") }
                }
            }
            let fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd < 0 { throw SyscallError("open \(path)") }
            defer { close(fd) }
            try applyMetadata(fd: fd, e, raw: path)
            dirTimes.append((parts, LayerWriter.atime(e), LayerWriter.mtime(e)))
        case 0o100000:
            var fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd < 0 && errno == EEXIST {
                try clear(dfd, name, path: path)
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            }
            if fd < 0 { throw SyscallError("create \(path)") }
            defer { close(fd) }
            try copyData(tar, to: fd, path: path, raw: raw, size: archive_entry_size(e))
            try applyMetadata(fd: fd, e, raw: path)
            var times = [LayerWriter.atime(e), LayerWriter.mtime(e)]
            if futimens(fd, &times) != 0 { throw SyscallError("set times of \(path)") }
            files.insert(path)
        case 0o120000:
            let target = archive_entry_symlink(e).map { String(cString: $0) } ?? ""
            if symlinkat(target, dfd, name) != 0 { throw SyscallError("symlink \(path)") }
            try chown(dfd, name, e, path: path)
            var times = [LayerWriter.atime(e), LayerWriter.mtime(e)]
            if utimensat(dfd, name, &times, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("set times of \(path)") }
            files.insert(path)
        case 0o010000:
            if mkfifoat(dfd, name, 0o600) != 0 { throw SyscallError("make fifo \(path)") }
            try chown(dfd, name, e, path: path)
            if fchmodat(dfd, name, archive_entry_perm(e) & 0o7777, 0) != 0 { throw SyscallError("chmod \(path)") }
            var times = [LayerWriter.atime(e), LayerWriter.mtime(e)]
            if utimensat(dfd, name, &times, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("set times of \(path)") }
            files.insert(path)
        default:
            // Character and block devices, sockets: mknod is refused in a
            // user namespace, and a container gets its devices from /dev.
            skippedDevices += 1
        }
    }

    /// Opens the directory that holds `parts` (the last component is the
    /// entry's own name), making missing directories as tar does. Refuses a
    /// parent that is a symlink, in this layer or, where this layer does not
    /// have it, in the merged lower layers. For a whiteout (or opaque
    /// marker) under a path that is no directory, in this layer or below,
    /// there is nothing to delete: nil, and nothing is made (umoci writes
    /// `d/.wh.sub` after turning the directory d into a file).
    private mutating func openParent(_ parts: [String], raw: String, forWhiteout: Bool = false) throws -> Int32? {
        // Tar lists a directory's entries together: the last parent is kept
        // open. Removals happen only in the parent being written, so the
        // kept fd never names a directory that was replaced.
        let parent = Array(parts.dropLast())
        if let c = cachedParent, c.parts == parent { return c.fd }
        guard let fd = try walkParent(parts, raw: raw, forWhiteout: forWhiteout) else { return nil }
        closeCache()
        cachedParent = (parent, fd)
        return fd
    }

    mutating func closeCache() {
        if let c = cachedParent { close(c.fd) }
        cachedParent = nil
    }

    /// Removes whatever has `name` in `dfd` (an earlier entry of this layer).
    private mutating func clear(_ dfd: Int32, _ name: String, path: String) throws {
        var st = stat()
        guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        try Tree.removeEntry(dfd, name)
        let prefix = path + "/"
        files = files.filter { $0 != path && !$0.hasPrefix(prefix) }
    }

    private mutating func walkParent(_ parts: [String], raw: String, forWhiteout: Bool) throws -> Int32? {
        var fd = openat(root, ".", COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open the layer root") }
        for i in 0..<(parts.count - 1) {
            let c = parts[i]
            var sub = Tree.openBeneath(fd, [c])
            if sub < 0 && errno == ENOENT {
                // A directory the layer does not list: made as the merged
                // lower layers have it (so the overlay shows it unchanged),
                // else 0755 root-owned as tar makes it.
                let prefix = Array(parts[0...i])
                var like: stat?
                switch LowerView(lowers: lowers).lookup(prefix) {
                case let .symlink(why): close(fd); throw LayerUnpack.Refused(entry: raw, why: why)
                case let .directory(st): like = st
                case .nothing: if forWhiteout { close(fd); return nil }
                }
                if mkdirat(fd, c, 0o755) != 0 && errno != EEXIST {
                    let e = SyscallError("mkdir \(prefix.joined(separator: "/"))"); close(fd); throw e
                }
                if let like {
                    let d = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if d >= 0 {
                        _ = fchown(d, like.st_uid, like.st_gid)
                        _ = fchmod(d, like.st_mode & 0o7777)
                        close(d)
                        dirTimes.append((prefix, like.st_atim, like.st_mtim))
                    }
                }
                sub = Tree.openBeneath(fd, [c])
            }
            if sub < 0 {
                let e = errno
                var st = stat()
                let isLink = fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_mode & S_IFMT == S_IFLNK
                close(fd)
                let prefix = parts[0...i].joined(separator: "/")
                if isLink || e == ELOOP {
                    throw LayerUnpack.Refused(entry: raw, why: "runs through the symlink \(prefix) of this layer")
                }
                if e == ENOTDIR && forWhiteout { return nil }
                if e == ENOTDIR {
                    throw LayerUnpack.Refused(entry: raw, why: "runs through \(prefix), which is not a directory")
                }
                throw SyscallError("open \(prefix)", errno: e)
            }
            close(fd)
            fd = sub
        }
        return fd
    }

    private mutating func hardlink(_ link: String, at parts: [String], dfd: Int32, raw: String) throws {
        guard case let .success(target) = LayerPath.components(link), !target.isEmpty else {
            throw LayerUnpack.Refused(entry: raw, why: "is a hardlink to \(link), outside the layer")
        }
        let key = target.joined(separator: "/")
        guard files.contains(key) else {
            throw LayerUnpack.Refused(entry: raw, why: "is a hardlink to \(link), which is no earlier entry of the layer")
        }
        let tdir = Tree.openBeneath(root, Array(target.dropLast()))
        if tdir < 0 { throw LayerUnpack.Refused(entry: raw, why: "is a hardlink to \(link), which cannot be reached") }
        defer { close(tdir) }
        if linkat(tdir, target[target.count - 1], dfd, parts[parts.count - 1], 0) != 0 {
            throw SyscallError("hardlink \(parts.joined(separator: "/")) to \(key)")
        }
    }

    private mutating func copyData(_ tar: LayerTar, to fd: Int32, path: String, raw: String, size: Int64) throws {
        apparent += UInt64(max(0, size))
        if apparent > options.maxSize {
            throw LayerUnpack.Refused(entry: raw, why: "makes the layer expand beyond \(options.maxSize) bytes (--max-size)")
        }
        var buf: UnsafeRawPointer?
        var len = 0
        var offset: la_int64_t = 0
        var end: Int64 = 0
        while true {
            let r = archive_read_data_block(tar.handle, &buf, &len, &offset)
            if r == ARCHIVE_EOF { break }
            if r != ARCHIVE_OK && r != ARCHIVE_WARN {
                if tar.stream.failure != nil, tar.stream.total > tar.stream.limit {
                    throw LayerUnpack.Refused(entry: raw, why: "makes the layer expand beyond \(options.maxSize) bytes (--max-size)")
                }
                throw FsError("layer \(options.diffID): read \(raw): \(tar.lastError)")
            }
            written += UInt64(len)
            if written > options.maxSize {
                throw LayerUnpack.Refused(entry: raw, why: "makes the layer expand beyond \(options.maxSize) bytes (--max-size)")
            }
            end = max(end, Int64(offset) + Int64(len))
            guard len > 0, let base = buf else { continue }
            var done = 0
            while done < len {
                let n = pwrite(fd, base + done, len - done, off_t(offset) + off_t(done))
                if n < 0 { if errno == EINTR { continue }; throw SyscallError("write \(path)") }
                done += n
            }
        }
        // A sparse file's trailing hole.
        if size > end && ftruncate(fd, off_t(size)) != 0 { throw SyscallError("size \(path)") }
    }

    /// Owner, then xattrs (security.capability after chown, which clears
    /// it), then mode (chown clears setuid and setgid too).
    private mutating func applyMetadata(fd: Int32, _ e: OpaquePointer, raw: String) throws {
        var (uid, gid) = owner(e)
        if fchown(fd, uid, gid) != 0 {
            guard errno == EINVAL else { throw SyscallError("chown \(raw)") }
            // An id outside this user's subordinate ranges.
            unmappedOwners += 1
            (uid, gid) = (0, 0)
            if fchown(fd, 0, 0) != 0 { throw SyscallError("chown \(raw)") }
        }
        archive_entry_xattr_reset(e)
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let n = String(cString: name)
            let allowed = (n.hasPrefix("user.") && !n.hasPrefix("user.overlay.")) || n == "security.capability"
            if !allowed || cove_fsetxattr(fd, n, value, size) != 0 { skippedXattrs.insert(n) }
        }
        if fchmod(fd, archive_entry_perm(e) & 0o7777) != 0 { throw SyscallError("chmod \(raw)") }
    }

    private mutating func chown(_ dfd: Int32, _ name: String, _ e: OpaquePointer, path: String) throws {
        let (uid, gid) = owner(e)
        if fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 {
            guard errno == EINVAL else { throw SyscallError("chown \(path)") }
            unmappedOwners += 1
            if fchownat(dfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) != 0 { throw SyscallError("chown \(path)") }
        }
    }

    private func owner(_ e: OpaquePointer) -> (uid_t, gid_t) {
        if options.collapseOwners { return (0, 0) }
        let u = archive_entry_uid(e), g = archive_entry_gid(e)
        guard u >= 0, g >= 0, u <= 0xFFFF_FFFE, g <= 0xFFFF_FFFE else { return (0, 0) }
        return (uid_t(u), gid_t(g))
    }

    static func mtime(_ e: OpaquePointer) -> timespec {
        timespec(tv_sec: archive_entry_mtime(e), tv_nsec: archive_entry_mtime_nsec(e))
    }
    static func atime(_ e: OpaquePointer) -> timespec {
        archive_entry_atime_is_set(e) != 0
            ? timespec(tv_sec: archive_entry_atime(e), tv_nsec: archive_entry_atime_nsec(e)) : mtime(e)
    }

    /// Directory times last, once nothing is added to them any more.
    func finish() throws {
        for (parts, atime, mtime) in dirTimes.reversed() {
            let fd = Tree.openBeneath(root, parts, flags: O_RDONLY)
            if fd < 0 { continue }   // replaced by a later entry
            var times = [atime, mtime]
            let r = futimens(fd, &times)
            close(fd)
            if r != 0 { throw SyscallError("set times of \(parts.joined(separator: "/"))/") }
        }
    }

    func notes(compression: String) -> String {
        var lines: [String] = []
        if skippedDevices > 0 {
            lines.append("cove-fs: note: layer \(options.diffID): \(skippedDevices) device node(s) or socket(s) skipped "
                + "(mknod is refused in a user namespace; containers get /dev from the runtime)")
        }
        if !skippedXattrs.isEmpty {
            lines.append("cove-fs: note: layer \(options.diffID): extended attributes not kept: "
                + skippedXattrs.sorted().joined(separator: ", "))
        }
        if unmappedOwners > 0 {
            lines.append("cove-fs: note: layer \(options.diffID): \(unmappedOwners) owner(s) outside the mapped ids became root")
        }
        return lines.map { $0 + "\n" }.joined()
    }
}

/// The lower layers as the overlay merges them (given top first): what a
/// path is in the merged view, for the questions unpack asks.
struct LowerView {
    let lowers: [Int32]

    enum Found {
        case nothing
        /// A directory, with its metadata (from the topmost layer that has it).
        case directory(stat)
        /// A symlink: no parent may run through it.
        case symlink(String)
    }

    func lookup(_ parts: [String]) -> Found {
        for (i, lower) in lowers.enumerated() {
            var fd = openat(lower, ".", COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { return .nothing }
            var absent = false
            var opaqueSeen = false
            for (j, c) in parts.enumerated() {
                var st = stat()
                if fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) != 0 { absent = true; break }
                let type = st.st_mode & S_IFMT
                if j == parts.count - 1 {
                    close(fd)
                    if type == S_IFLNK {
                        return .symlink("runs through \(parts.joined(separator: "/")), a symlink in lower layer \(i + 1) (top first)")
                    }
                    return type == S_IFDIR ? .directory(st) : .nothing
                }
                // A non-directory (a whiteout too) hides everything below it.
                if type != S_IFDIR { close(fd); return .nothing }
                let sub = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                close(fd)
                if sub < 0 { return .nothing }
                var v: UInt8 = 0
                if cove_fgetxattr(sub, "user.overlay.opaque", &v, 1) == 1 && v == UInt8(ascii: "y") { opaqueSeen = true }
                fd = sub
            }
            close(fd)
            if absent && opaqueSeen { return .nothing }
        }
        return .nothing
    }
}
