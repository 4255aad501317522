#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// `cove-fs probe --dir DIR`: which storage driver works in DIR, decided by
/// doing it: the kernel's overlay with userxattr in a fresh user and mount
/// namespace (a write, and a delete that must leave a whiteout), else
/// fuse-overlayfs mounted the same way, else the copy driver.
enum Probe {
    static func run(dir: String) throws -> String {
        let abs = Files.absolute(dir)
        guard Files.isDirectory(abs) else { throw FsError("probe --dir \(abs): no such directory") }
        let fuse = Environment.findExecutable("fuse-overlayfs", path: Environment.get("PATH") ?? "/usr/bin:/bin")
            ?? Environment.findExecutable("fuse-overlayfs", path: "/usr/bin:/usr/local/bin:/bin")
        return try UserNamespace.run(title: "cove-fs probe", extra: COVE_CLONE_NEWNS) {
            try Mounts.setPropagation("/", COVE_MS_REC | COVE_MS_PRIVATE, describe: "make / private")
            let base = abs + "/.tmp-\(getpid())-\(Tree.randomSuffix())-probe"
            try Files.makeDirectories(base, mode: 0o700)
            defer {
                _ = cove_umount2(base + "/merged", COVE_MNT_DETACH)
                let parent = open(abs, COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
                if parent >= 0 { try? Tree.removeEntry(parent, Tree.split(base).name); close(parent) }
            }
            let reflink = canReflink(base)
            let fs = filesystemName(abs)
            var reasons: [String] = []
            do {
                try prepare(base)
                try Mounts.mount("overlay", base + "/merged", type: "overlay", flags: 0,
                                 data: "lowerdir=\(base)/lower,upperdir=\(base)/upper,workdir=\(base)/work,userxattr",
                                 describe: "mount")
                defer { _ = cove_umount2(base + "/merged", COVE_MNT_DETACH) }
                try exercise(base)
                return json("overlay", "kernel overlay with userxattr works in a user namespace on \(fs)", reflink)
            } catch {
                reasons.append("overlay on \(fs): \(error)")
            }
            _ = cove_umount2(base + "/merged", COVE_MNT_DETACH)
            if let fuse {
                do {
                    try tryFuse(fuse, base)
                    return json("fuse-overlayfs", reasons.joined(separator: "; ") + "; fuse-overlayfs works", reflink)
                } catch {
                    reasons.append("fuse-overlayfs: \(error)")
                }
            } else {
                reasons.append("fuse-overlayfs: not installed (apt-get install fuse-overlayfs)")
            }
            return json("copy", reasons.joined(separator: "; "), reflink)
        }
    }

    static func json(_ driver: String, _ reason: String, _ reflink: Bool) -> String {
        JSON.object([("driver", .string(driver)), ("reason", .string(reason)), ("reflink", .bool(reflink))])
            .serialized() + "\n"
    }

    /// Fresh lower (two files), upper, work and merged directories.
    static func prepare(_ base: String) throws {
        let parent = open(base, COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 {
            for d in ["lower", "upper", "work", "merged"] { try? Tree.removeEntry(parent, d) }
            close(parent)
        }
        for d in ["lower", "upper", "work", "merged"] { try Files.makeDirectories(base + "/" + d, mode: 0o755) }
        try Files.writeAtomically(base + "/lower/gone", Array("a\n".utf8), durable: false)
        try Files.writeAtomically(base + "/lower/kept", Array("b\n".utf8), durable: false)
    }

    /// Writes a file, deletes a lower one, and checks the upper layer.
    static func exercise(_ base: String) throws {
        let m = base + "/merged"
        guard (try? Files.readText(m + "/kept")) == "b\n" else { throw SyscallError("read a lower file through the mount", errno: EIO) }
        try Files.writeAtomically(m + "/new", Array("c\n".utf8), durable: false)
        if unlink(m + "/gone") != 0 { throw SyscallError("delete a lower file") }
        if Files.exists(m + "/gone") { throw SyscallError("delete a lower file: it is still there", errno: EIO) }
        guard (try? Files.readText(base + "/upper/new")) == "c\n" else {
            throw SyscallError("write: the file is not in the upper layer", errno: EIO)
        }
        var st = stat()
        guard lstat(base + "/upper/gone", &st) == 0, st.st_mode & S_IFMT == S_IFCHR || st.st_mode & S_IFMT == S_IFREG else {
            throw SyscallError("delete: no whiteout in the upper layer", errno: EIO)
        }
    }

    static func tryFuse(_ exe: String, _ base: String) throws {
        let dev = open("/dev/fuse", O_RDWR | O_CLOEXEC)
        if dev < 0 { throw SyscallError("open /dev/fuse", hint: "the fuse module must be loaded and /dev/fuse 0666") }
        close(dev)
        try prepare(base)
        try Processes.becomeSubreaper()
        let (status, err) = try Processes.run(exe, ["-o", "lowerdir=\(base)/lower,upperdir=\(base)/upper,workdir=\(base)/work",
                                                    base + "/merged"])
        if status != .exited(0) {
            let line = err.split(separator: "\n").last.map(String.init) ?? "\(status)"
            throw SyscallError("mount: \(line)", errno: EIO)
        }
        var failure: Error?
        do { try exercise(base) } catch { failure = error }
        _ = cove_umount2(base + "/merged", 0)
        // The daemon ends once unmounted; as subreaper this process reaps it.
        for _ in 0..<500 {
            if Processes.reapAny() == nil, !hasChildren() { break }
            usleep(10_000)
        }
        if let failure { throw failure }
    }

    static func hasChildren() -> Bool {
        guard let text = try? Files.readText("/proc/self/task/\(getpid())/children") else { return false }
        return !text.split(separator: " ").isEmpty
    }

    /// Whether FICLONE works between two files in `dir`.
    static func canReflink(_ dir: String) -> Bool {
        let a = open(dir + "/reflink-a", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        let b = open(dir + "/reflink-b", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        defer { if a >= 0 { close(a) }; if b >= 0 { close(b) }; unlink(dir + "/reflink-a"); unlink(dir + "/reflink-b") }
        guard a >= 0, b >= 0 else { return false }
        _ = "reflink\n".withCString { write(a, $0, 8) }
        return cove_ficlone(b, a) == 0
    }

    static func filesystemName(_ path: String) -> String {
        guard let t = Files.filesystemType(path) else { return "an unknown filesystem" }
        let names: [Int64: String] = [
            0xEF53: "ext4", 0x5846_5342: "xfs", 0x9123_683E: "btrfs", 0x0102_1994: "tmpfs", 0x6969: "nfs",
            0x2FC1_2FC1: "zfs", 0x794C_7630: "overlay", 0x6573_5546: "fuse", 0xFF53_4D42: "cifs", 0x0100_7111: "f2fs",
        ]
        return names[t] ?? "filesystem type 0x\(String(t, radix: 16))"
    }
}
