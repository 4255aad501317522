#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux

/// `cove-fs remove`: trees that hold files of subordinate uids, which the
/// caller cannot delete from its own namespace, removed from inside the
/// user namespace. Only paths the caller owns; never "/".
enum Remove {
    static func run(_ paths: [String]) throws {
        guard !paths.isEmpty else { throw FsError("remove needs at least one DIR; usage: cove-fs remove DIR...") }
        var targets: [String] = []
        for p in paths {
            let abs = Files.absolute(p)
            if abs == "/" { throw FsError("remove /: refused") }
            var st = stat()
            if lstat(abs, &st) != 0 {
                if errno == ENOENT { continue }   // gone already: nothing to do
                throw FsError("remove \(abs): \(String(cString: strerror(errno)))")
            }
            if st.st_uid != getuid() {
                throw FsError("remove \(abs): owned by uid \(st.st_uid), not by the caller (uid \(getuid())); refused")
            }
            targets.append(abs)
        }
        if targets.isEmpty { return }
        _ = try UserNamespace.run(title: "cove-fs remove") {
            for t in targets {
                let (dir, name) = Tree.split(t)
                let fd = open(dir, COVE_O_PATH | O_DIRECTORY | O_CLOEXEC)
                if fd < 0 { throw SyscallError("open \(dir)") }
                defer { close(fd) }
                do { try Tree.removeEntry(fd, name) } catch let e as SyscallError {
                    throw FsError("remove \(t): \(e)")
                }
            }
            return ""
        }
    }
}
