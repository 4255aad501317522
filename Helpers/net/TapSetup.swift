#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The container side of the link: tap0 with its address, MTU and default
/// route, made by a short-lived child inside the container's namespaces.
/// cove-net itself stays in the host's and gets the tap fd by SCM_RIGHTS.
enum TapSetup {
    static let device = "tap0"
    static let address = IPv4Address(10, 0, 2, 100)
    static let prefixLength = 24
    static let gateway = IPv4Address(10, 0, 2, 2)

    static func openTap(netns: String, userns: String, mtu: Int) throws -> Int32 {
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
            Processes.setName("cove-net:tap")
            Processes.dieWithParent()
            do {
                let fd = try configure(userFD: userFD, netFD: netFD, mtu: mtu, netns: netns, userns: userns)
                try childEnd.send(.ready, fd: fd)
                _exit(0)
            } catch {
                let e = (error as? SyscallError)?.errno ?? EIO
                try? childEnd.send(.failure(errno: e, message: "\(error)"))
                _exit(1)
            }
        }
        childEnd.close()
        defer { parentEnd.close() }
        let reply = try parentEnd.receiveWithFD()
        _ = try? Processes.wait(pid)
        switch reply {
        case let (.ready, fd)? where fd >= 0:
            return fd
        case let (.failure(e, message), _)?:
            throw SetupFailure(errno: e, message: message)
        default:
            throw SetupFailure(errno: EPROTO, message: "tap setup child ended without a tap device")
        }
    }

    /// In the child. setns into the user namespace first: joining the
    /// network namespace needs CAP_SYS_ADMIN over its owner, which only
    /// membership of that user namespace gives an unprivileged caller.
    static func configure(userFD: Int32, netFD: Int32, mtu: Int, netns: String, userns: String) throws -> Int32 {
        try Namespaces.join(.user, fd: userFD, describe: "join user namespace \(userns)")
        try Namespaces.join(.network, fd: netFD, describe: "join network namespace \(netns)")
        let fd = try NetInterface.openTap(device)
        try NetInterface.up("lo")
        try NetInterface.setMTU(device, mtu)
        try NetInterface.setAddress(device, address, prefixLength: prefixLength)
        try NetInterface.up(device)
        // The kernel refuses a gateway route until the gateway is on a
        // connected subnet, that is after the address is set and the link up.
        try NetInterface.addDefaultRoute(device, via: gateway)
        return fd
    }
}

struct SetupFailure: Error, CustomStringConvertible {
    let errno: Int32
    let message: String
    var description: String { message }
}
