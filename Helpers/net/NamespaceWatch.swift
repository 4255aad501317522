#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// Without --pid: notices when no process is left in the container's
/// network namespace but cove-net's own connector. The namespace itself
/// cannot be seen to go away: the tap fd and the connector keep it alive
/// for as long as cove-net runs. So once a second this looks through
/// /proc for a process whose ns/net is that namespace; the container's
/// processes run under ids of a user namespace this user owns, so their
/// ns links are readable here. Only for a namespace given as
/// /proc/PID/ns/net: one bind-mounted elsewhere (ip netns) may have no
/// process in it at all and still be in use.
final class NamespaceWatch {
    static let intervalMs: Int64 = 1_000

    let device: UInt64
    let inode: UInt64
    let ignoring: pid_t
    private var nextCheck: Int64

    init?(netns path: String, ignoring connector: pid_t) {
        guard path.hasPrefix("/proc/") else { return nil }
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        ignoring = connector
        nextCheck = SlirpTimers.nowMilliseconds() + NamespaceWatch.intervalMs
    }

    func millisecondsToDeadline(now: Int64) -> Int64 { max(0, nextCheck - now) }

    /// True once the namespace has no process of the container left.
    func isEmpty(now: Int64) -> Bool {
        guard now >= nextCheck else { return false }
        nextCheck = now + NamespaceWatch.intervalMs
        guard let dir = opendir("/proc") else { return false }
        defer { closedir(dir) }
        // Bounded by the number of processes on the host.
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), pid != ignoring, pid != getpid() else { continue }
            var st = stat()
            if stat("/proc/\(pid)/ns/net", &st) == 0, UInt64(st.st_ino) == inode, UInt64(st.st_dev) == device {
                return false
            }
        }
        return true
    }
}
