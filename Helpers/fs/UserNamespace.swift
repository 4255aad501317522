#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// One line for the user; cove-fs exits 125 with it.
struct FsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Work done as root of a new user namespace mapped as cove-unshare maps a
/// container by default (the caller to 0, its /etc/subuid and /etc/subgid
/// ranges from 1), so that owners written there are the owners a container
/// sees. The order is cove-unshare's: the child is cloned into the new
/// namespace and waits on a pipe while the parent, still in the caller's
/// namespace, writes its maps.
enum UserNamespace {
    /// The maps cove-fs uses, and whether they are a single id (no ranges).
    static var mappings: (uid: [RuntimeSpec.IDMapping], gid: [RuntimeSpec.IDMapping]) {
        IDMaps.mappings(RuntimeSpec.Linux.empty)
    }
    static var singleID: Bool { mappings.uid.count == 1 || mappings.gid.count == 1 }

    /// Runs `body` in a child in a new user namespace (and the namespaces
    /// in `extra`); returns what `body` returned, or throws its error's line.
    /// `title` names the child for `ps`.
    static func run(title: String, extra: Int32 = 0, _ body: () throws -> String) throws -> String {
        var go: [Int32] = [-1, -1]
        var report: [Int32] = [-1, -1]
        try check("pipe", cove_pipe_cloexec(&go))
        try check("pipe", cove_pipe_cloexec(&report))
        let pid: pid_t
        do { pid = try Processes.fork(namespaces: COVE_CLONE_NEWUSER | extra) } catch let e as SyscallError {
            for fd in go + report { close(fd) }
            throw FsError("create a user namespace: \(e.reason) (is kernel.unprivileged_userns_clone or "
                + "user.max_user_namespaces 0? `cove doctor` checks)")
        }
        if pid == 0 {
            close(go[1]); close(report[0])
            Processes.dieWithParent()
            Processes.setName(title)
            var byte: UInt8 = 0
            let n = read(go[0], &byte, 1)
            close(go[0])
            if n != 1 { _exit(125) }   // the parent failed to map us and said so itself
            var out: [UInt8]
            var code: Int32 = 0
            do { out = [0x2B] + Array(try body().utf8) } catch {
                out = [0x21] + Array("\(error)".utf8)
                code = 1
            }
            try? Files.writeAll(fd: report[1], out, what: "report pipe")
            _exit(code)
        }
        close(go[0]); close(report[1])
        do { try IDMaps.write(pid: pid, linux: RuntimeSpec.Linux.empty) } catch {
            close(go[1]); close(report[0])
            _ = kill(pid, SIGKILL)
            _ = try? Processes.wait(pid)
            throw FsError("\(error)")
        }
        var one: UInt8 = 1
        _ = write(go[1], &one, 1)
        close(go[1])
        let said = (try? Files.readAll(fd: report[0], limit: 1 << 20, what: "report pipe")) ?? []
        close(report[0])
        let status = try Processes.wait(pid)
        let text = String(decoding: said.dropFirst(), as: UTF8.self)
        if said.first == 0x2B && status == .exited(0) { return text }
        if said.first == 0x21 { throw FsError(text) }
        throw FsError("\(title) ended without a report (\(status))")
    }
}

/// Trees handled through directory fds, never following a symlink.
enum Tree {
    /// Removes everything in the directory `dirfd`, then nothing else.
    /// `depth` bounds the recursion (PATH_MAX allows at most 2048 levels).
    static func removeContents(_ dirfd: Int32, depth: Int = 0) throws {
        if depth > 2048 { throw SyscallError("remove a tree deeper than 2048 levels", errno: ELOOP) }
        for name in try names(dirfd) {
            try removeEntry(dirfd, name, depth: depth)
        }
    }

    static func removeEntry(_ dirfd: Int32, _ name: String, depth: Int = 0) throws {
        var st = stat()
        if fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 {
            if errno == ENOENT { return }
            throw SyscallError("stat \(name)")
        }
        if st.st_mode & S_IFMT == S_IFDIR {
            let sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if sub < 0 { throw SyscallError("open \(name)") }
            defer { close(sub) }
            try removeContents(sub, depth: depth + 1)
            if unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT { throw SyscallError("remove \(name)") }
        } else if unlinkat(dirfd, name, 0) != 0 && errno != ENOENT {
            throw SyscallError("remove \(name)")
        }
    }

    /// Names in a directory (not "." or ".."), read through a duplicate so
    /// `dirfd` stays open and usable.
    static func names(_ dirfd: Int32) throws -> [String] {
        let d = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if d < 0 { throw SyscallError("open directory") }
        guard let dir = fdopendir(d) else { close(d); throw SyscallError("open directory") }
        defer { closedir(dir) }
        var out: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }

    /// Opens `parts` under `root` as a directory, never through a symlink and
    /// never above `root` (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
    static func openBeneath(_ root: Int32, _ parts: [String], flags: Int32 = COVE_O_PATH) -> Int32 {
        let path = parts.isEmpty ? "." : parts.joined(separator: "/")
        return cove_openat2(root, path, flags | O_DIRECTORY | O_CLOEXEC, 0,
                            COVE_RESOLVE_BENEATH | COVE_RESOLVE_NO_SYMLINKS | COVE_RESOLVE_NO_MAGICLINKS)
    }

    static func split(_ path: String) -> (dir: String, name: String) {
        let abs = Files.absolute(path)
        let parts = abs.split(separator: "/")
        let name = parts.last.map(String.init) ?? ""
        return ("/" + parts.dropLast().joined(separator: "/"), name)
    }

    /// Removes siblings named `.tmp-PID-…` in `dirfd` whose process is gone:
    /// what an unpack or copy killed midway leaves.
    static func removeStaleTemporaries(_ dirfd: Int32) {
        guard let all = try? names(dirfd) else { return }
        for n in all where n.hasPrefix(".tmp-") {
            let fields = n.split(separator: "-")
            guard fields.count >= 3, let pid = Int32(fields[1]), pid > 0, pid != getpid() else { continue }
            if !Files.exists("/proc/\(pid)") { try? removeEntry(dirfd, n) }
        }
    }

    static func randomSuffix() -> String {
        var rng = SystemRandomNumberGenerator()
        return String(rng.next() & 0xFFFF_FFFF_FFFF, radix: 16)
    }
}
