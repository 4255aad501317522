#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// `--tap-channel`: started before the container exists (by cove-unshare,
/// or by the front, which hands the channel to cove-unshare), so that
/// loading libslirp overlaps the container's setup instead of following
/// it. On the channel come cove-net's arguments (a JSON array, from the
/// config's io.cove.network.helper annotation), then, from the container's
/// init, one message each, its user and network namespaces, a pidfd of
/// itself and the tap it made (tap0, configured as cove-net's --mtu and
/// --enable-ipv6 ask). cove-net answers `.ready` (or `.failure`) once
/// libslirp runs behind the tap and every forward listens; init waits for
/// that before it says ready. Only published ports need a process of
/// cove-net's in those namespaces (the connector).
struct TapHandoff {
    let channel: SyncChannel
    let userFD: Int32
    let netFD: Int32
    let pidFD: Int32
    let tapFD: Int32

    static let parts = ["userns", "netns", "pidfd", "tap"]

    /// The arguments, as given to cove-net on its command line.
    static func receiveArguments(_ channel: SyncChannel) throws -> [String] {
        guard let (m, fd) = try channel.receiveWithFD() else {
            throw SetupFailure(errno: EPIPE, message: "the runtime closed the channel before it sent cove-net's arguments")
        }
        if fd >= 0 { close(fd) }
        guard case let .networkArguments(text) = m,
              let args = (try? JSON.parse(Array(text.utf8)))?.arrayValue?.compactMap(\.stringValue) else {
            throw SetupFailure(errno: EBADMSG, message: "expected cove-net's arguments on the channel, got \(m)")
        }
        return args
    }

    static func receive(_ channel: SyncChannel) throws -> TapHandoff {
        // In the order of `parts`.
        var fds: [Int32] = []
        do {
            for part in parts {
                guard let (m, fd) = try channel.receiveWithFD() else {
                    throw SetupFailure(errno: EPIPE, message: "the container ended before it sent its \(part)")
                }
                guard m == .handoff(part), fd >= 0 else {
                    if fd >= 0 { close(fd) }
                    throw SetupFailure(errno: EBADMSG, message: "expected the container's \(part), got \(m)")
                }
                fds.append(fd)
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        return TapHandoff(channel: channel, userFD: fds[0], netFD: fds[1], pidFD: fds[2], tapFD: fds[3])
    }
}
