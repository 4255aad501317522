#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The container side of the link: tap0 with its addresses, MTU and default
/// routes, made by a child inside the container's namespaces. cove-net
/// itself stays in the host's and gets the tap fd by SCM_RIGHTS; the child
/// stays as the connector of the splice path (see Connector).
enum TapSetup {
    /// `closeInChild`: fds of the caller's that the long-lived child must not
    /// hold (a ready fd whose reader waits for its end).
    static func openTap(netns: String, userns: String, mtu: Int, ipv6: Bool, persistent: Bool = false,
                        closeInChild: [Int32] = []) throws -> (Int32, Connector) {
        // Opened here, before the fork, so that a bad path fails with its
        // name and the child needs no /proc of the host.
        let userFD = open(userns, O_RDONLY | O_CLOEXEC)
        if userFD < 0 { throw SyscallError("open user namespace \(userns)") }
        defer { close(userFD) }
        let netFD = open(netns, O_RDONLY | O_CLOEXEC)
        if netFD < 0 { throw SyscallError("open network namespace \(netns)") }
        defer { close(netFD) }
        return try openTap(userFD: userFD, netFD: netFD, netns: netns, userns: userns, mtu: mtu, ipv6: ipv6,
                           persistent: persistent, closeInChild: closeInChild)
    }

    /// The same for namespaces open already (TapHandoff: sent by the
    /// container's init); `netns` and `userns` only name them in errors.
    static func openTap(userFD: Int32, netFD: Int32, netns: String, userns: String, mtu: Int, ipv6: Bool,
                        persistent: Bool, closeInChild: [Int32]) throws -> (Int32, Connector) {

        let (parentEnd, childEnd) = try SyncChannel.pair()
        let pid = try Processes.fork()
        if pid == 0 {
            parentEnd.close()
            for fd in closeInChild { close(fd) }
            Processes.setName("cove-net:tap")
            Processes.dieWithParent()
            do {
                let fd = try configure(userFD: userFD, netFD: netFD, mtu: mtu, netns: netns, userns: userns,
                                       ipv6: ipv6, persistent: persistent)
                try childEnd.send(.ready, fd: fd)
                close(fd)
                close(userFD)
                close(netFD)
                Processes.setName("cove-net:connector")
                Connector.serve(childEnd.fd)
            } catch {
                let e = (error as? SyscallError)?.errno ?? EIO
                try? childEnd.send(.failure(errno: e, message: "\(error)"))
                _exit(1)
            }
        }
        childEnd.close()
        let reply: (SyncMessage, Int32)?
        do { reply = try parentEnd.receiveWithFD() } catch {
            Connector(pid: pid, channel: parentEnd.fd).stop()
            throw error
        }
        switch reply {
        case let (.ready, fd)? where fd >= 0:
            return (fd, Connector(pid: pid, channel: parentEnd.fd))
        case let (.failure(e, message), _)?:
            Connector(pid: pid, channel: parentEnd.fd).stop()
            throw SetupFailure(errno: e, message: message)
        default:
            Connector(pid: pid, channel: parentEnd.fd).stop()
            throw SetupFailure(errno: EPROTO, message: "tap setup child ended without a tap device")
        }
    }

    /// In the child. setns into the user namespace first: joining the
    /// network namespace needs CAP_SYS_ADMIN over its owner, which only
    /// membership of that user namespace gives an unprivileged caller.
    static func configure(userFD: Int32, netFD: Int32, mtu: Int, netns: String, userns: String,
                          ipv6: Bool, persistent: Bool) throws -> Int32 {
        try Namespaces.join(.user, fd: userFD, describe: "join user namespace \(userns)")
        try Namespaces.join(.network, fd: netFD, describe: "join network namespace \(netns)")
        return try ContainerTap.create(mtu: mtu, ipv6: ipv6, persistent: persistent)
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let errno: Int32
    let message: String
    var description: String { message }
}
