#if canImport(Glibc)
import Glibc
#endif


/// Removing a container's directory from this process, without the user
/// namespace `cove-fs remove` enters (a fork, newuidmap and newgidmap: the
/// largest part of `--rm` here). After most runs every entry of the
/// writable layer belongs to the caller, since the container's root is the
/// caller's own uid; the overlay's work/work directory is made mode 000,
/// so directories of ours are opened up before they are read. An entry of
/// a subordinate uid (a file a container chowned) cannot be opened up or
/// emptied from here: then this stops with `false` and the caller falls
/// back to `cove-fs remove`, which removes what is left.
public enum OwnedTree {
    /// Removes `path` and everything under it; false (nothing thrown) when
    /// some entry needs the user namespace, with the rest left in place
    /// for `cove-fs remove`.
    public static func remove(_ path: String) -> Bool {
        var (dir, name) = split(path)
        if dir.isEmpty { dir = "/" }
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // Bounded by the depth of the tree: one level of recursion per directory level.
        return removeEntry(parent: fd, name: name, uid: getuid())
    }

    static func split(_ path: String) -> (String, String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        return (String(path[..<slash]), String(path[path.index(after: slash)...]))
    }

    private static func removeEntry(parent: Int32, name: String, uid: uid_t) -> Bool {
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0 { return errno == ENOENT }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            // Unlinking needs write access to the directory only, whoever owns the file.
            return unlinkat(parent, name, 0) == 0 || errno == ENOENT
        }
        if st.st_uid != uid { return false }
        if st.st_mode & 0o700 != 0o700 {
            // The directory is ours: its owner may change its mode without privileges.
            guard fchmodat(parent, name, (st.st_mode & 0o7777) | 0o700, 0) == 0 else { return false }
        }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, let d = fdopendir(fd) else {
            if fd >= 0 { close(fd) }
            return false
        }
        var names: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if n != "." && n != ".." { names.append(n) }
        }
        var ok = true
        for n in names where !removeEntry(parent: dirfd(d), name: n, uid: uid) { ok = false }
        closedir(d)
        guard ok else { return false }
        return unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT
    }
}
