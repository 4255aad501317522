#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// `--tap-channel`: cove-unshare started this process before it made the
/// container, so that loading libslirp and the rest of cove-net's start
/// overlap the container's setup instead of following it. The container's
/// init makes tap0 in its own network namespace (ContainerTap) and sends,
/// one message each, the tap, its user and network namespaces and a pidfd
/// of itself; it then waits for `.ready` (or `.failure`), which cove-net
/// sends once libslirp runs behind the tap and every forward listens.
struct TapHandoff {
    let channel: SyncChannel
    let tap: Int32
    let userFD: Int32
    let netFD: Int32
    let pidFD: Int32

    static let parts = ["tap", "userns", "netns", "pidfd"]

    static func receive(_ channel: SyncChannel) throws -> TapHandoff {
        var fds: [String: Int32] = [:]
        do {
            for part in parts {
                guard let (m, fd) = try channel.receiveWithFD() else {
                    throw SetupFailure(errno: EPIPE, message: "the container ended before it sent its \(part)")
                }
                guard m == .handoff(part), fd >= 0 else {
                    if fd >= 0 { close(fd) }
                    throw SetupFailure(errno: EBADMSG, message: "expected the container's \(part), got \(m)")
                }
                fds[part] = fd
            }
        } catch {
            for fd in fds.values { close(fd) }
            throw error
        }
        return TapHandoff(channel: channel, tap: fds["tap"]!, userFD: fds["userns"]!, netFD: fds["netns"]!,
                          pidFD: fds["pidfd"]!)
    }
}
