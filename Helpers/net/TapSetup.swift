#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The container side of the link: tap0 with its addresses, MTU and default
/// routes, made by a child inside the container's namespaces (unless the
/// container's init made it, see TapHandoff). cove-net itself stays in the
/// host's and gets the tap fd by SCM_RIGHTS; the child stays as the
/// connector of the splice path (see Connector).
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

    /// The same for namespaces open already; `netns` and `userns` only
    /// name them in errors.
    static func openTap(userFD: Int32, netFD: Int32, netns: String, userns: String, mtu: Int, ipv6: Bool,
                        persistent: Bool, closeInChild: [Int32]) throws -> (Int32, Connector) {
        let (tap, connector) = try startChild(userFD: userFD, netFD: netFD, netns: netns, userns: userns,
                                              tap: (mtu, ipv6, persistent), closeInChild: closeInChild)
        guard let tap else {
            connector.stop()
            throw SetupFailure(errno: EPROTO, message: "tap setup child ended without a tap device")
        }
        return (tap, connector)
    }

    /// Only the connector, in namespaces whose tap the container's init
    /// made (TapHandoff): for the splice path of published ports.
    static func startConnector(userFD: Int32, netFD: Int32, closeInChild: [Int32]) throws -> Connector {
        let (tap, connector) = try startChild(userFD: userFD, netFD: netFD, netns: "of the container",
                                              userns: "of the container", tap: nil, closeInChild: closeInChild)
        if let tap { close(tap) }
        return connector
    }

    /// The child: joins the namespaces, makes the tap when asked to and
    /// sends its fd, then stays as the connector.
    private static func startChild(userFD: Int32, netFD: Int32, netns: String, userns: String,
                                   tap: (mtu: Int, ipv6: Bool, persistent: Bool)?,
                                   closeInChild: [Int32]) throws -> (Int32?, Connector) {
        let (parentEnd, childEnd) = try SyncChannel.pair()
        let pid = try Processes.fork()
        if pid == 0 {
            parentEnd.close()
            for fd in closeInChild { close(fd) }
            Processes.setName("cove-net:tap")
            Processes.dieWithParent()
            do {
                // The user namespace first: joining the network namespace
                // needs CAP_SYS_ADMIN over its owner, which only membership
                // of that user namespace gives an unprivileged caller.
                try Namespaces.join(.user, fd: userFD, describe: "join user namespace \(userns)")
                try Namespaces.join(.network, fd: netFD, describe: "join network namespace \(netns)")
                let fd = try tap.map { try ContainerTap.create(mtu: $0.mtu, ipv6: $0.ipv6, persistent: $0.persistent) } ?? -1
                try childEnd.send(.ready, fd: fd)
                if fd >= 0 { close(fd) }
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
        case let (.ready, fd)?:
            return (fd >= 0 ? fd : nil, Connector(pid: pid, channel: parentEnd.fd))
        case let (.failure(e, message), _)?:
            Connector(pid: pid, channel: parentEnd.fd).stop()
            throw SetupFailure(errno: e, message: message)
        default:
            Connector(pid: pid, channel: parentEnd.fd).stop()
            throw SetupFailure(errno: EPROTO, message: "tap setup child ended without a tap device")
        }
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let errno: Int32
    let message: String
    var description: String { message }
}
