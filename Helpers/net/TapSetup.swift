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
    static let device = "tap0"
    static let address = IPv4Address(10, 0, 2, 100)
    static let prefixLength = 24
    static let gateway = IPv4Address(10, 0, 2, 2)
    // slirp4netns --enable-ipv6's network: fd00::/64, gateway fd00::2, DNS
    // fd00::3. It leaves the guest to SLAAC; cove-net sets fd00::100, the
    // same host part as 10.0.2.100, so that the address is known at once.
    static let address6 = IPAddress("fd00::100")
    static let prefixLength6 = 64
    static let gateway6 = IPAddress("fd00::2")

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
        let fd = try NetInterface.openTap(device)
        // Closing a tap's last fd unregisters the device, and that waits for
        // the kernel's network grace periods: 15-30 ms here, at cove-net's
        // exit, which the front waits for. A persistent device is instead
        // removed with its network namespace, by the kernel's asynchronous
        // namespace cleanup. Only for a namespace that dies with its
        // container (the OCI hook's): in one that lives on, the device
        // would be left behind.
        if persistent { try NetInterface.setPersistent(fd) }
        try NetInterface.up("lo")
        try NetInterface.setMTU(device, mtu)
        try NetInterface.setAddress(device, address, prefixLength: prefixLength)
        try NetInterface.up(device)
        // The kernel refuses a gateway route until the gateway is on a
        // connected subnet, that is after the address is set and the link up.
        try NetInterface.addDefaultRoute(device, via: gateway)
        if ipv6, let address6, let gateway6 {
            // No duplicate address detection: the link has two ends, and a
            // tentative address could not be used for a second or so.
            // /proc/sys/net reflects the namespace of the process opening it.
            try NetInterface.setSysctl("/proc/sys/net/ipv6/conf/\(device)/accept_dad", "0")
            try NetInterface.setAddress6(device, address6, prefixLength: prefixLength6)
            try NetInterface.addDefaultRoute6(device, via: gateway6)
        }
        return fd
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let errno: Int32
    let message: String
    var description: String { message }
}
