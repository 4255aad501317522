#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux

/// The splice path's other end: a process that stays in the container's
/// user and network namespaces (TapSetup's child, kept alive; only with
/// ports to publish when the container's init made the tap) and opens
/// sockets there on request. cove-net asks it, over a SOCK_SEQPACKET pair,
/// for a socket bound to a client's loopback address and connected to the
/// container's loopback; it answers with an errno and the socket, passed by
/// SCM_RIGHTS. Its work is socket, bind and a non-blocking connect, so a
/// request is answered at once and cove-net waits for the reply in line.
///
/// Why the namespace's loopback (127.0.0.1 or ::1) and not 10.0.2.100: a
/// server bound to 0.0.0.0 sees both, but a server bound to 127.0.0.1 only
/// is reachable only this way, and a bind to the client's own 127.x address
/// is possible only towards a loopback destination (the kernel would send a
/// packet from 127.x out of tap0 never). pasta's splice path does the same.
/// A server bound to 10.0.2.100 only is not reached from the host's
/// loopback; it is reached from other clients through libslirp.
struct Connector {
    let pid: pid_t
    let channel: Int32

    struct Request {
        var udp: Bool
        var from: SocketAddress?
        var to: SocketAddress

        // udp(1) hasFrom(1) family(1) from(16) fromPort(2) to(16) toPort(2)
        func encoded() -> [UInt8] {
            var b: [UInt8] = [udp ? 1 : 0, from == nil ? 0 : 1, to.ip.isIPv6 ? 6 : 4]
            let f = from ?? SocketAddress(to.ip, 0)
            b += f.ip.bytes + [UInt8](repeating: 0, count: 16 - f.ip.bytes.count)
            b += [UInt8(f.port >> 8), UInt8(f.port & 0xff)]
            b += to.ip.bytes + [UInt8](repeating: 0, count: 16 - to.ip.bytes.count)
            b += [UInt8(to.port >> 8), UInt8(to.port & 0xff)]
            return b
        }

        init(udp: Bool, from: SocketAddress?, to: SocketAddress) {
            self.udp = udp
            self.from = from
            self.to = to
        }

        init?(decoding b: [UInt8]) {
            guard b.count == 39 else { return nil }
            func address(_ at: Int) -> SocketAddress {
                let ip: IPAddress = b[2] == 6 ? .v6(Array(b[at..<at + 16]))
                    : .v4(UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24)
                return SocketAddress(ip, UInt16(b[at + 16]) << 8 | UInt16(b[at + 17]))
            }
            udp = b[0] == 1
            from = b[1] == 1 ? address(3) : nil
            to = address(21)
        }
    }

    /// In cove-net: a socket in the container's namespace, or the errno
    /// the connector met. A connector that is gone is an error of its own.
    func open(_ r: Request) throws -> (fd: Int32, errno: Int32) {
        let bytes = r.encoded()
        let sent = bytes.withUnsafeBytes { cove_send_packet(channel, $0.baseAddress, UInt($0.count), -1) }
        if sent < 0 { throw SyscallError("send a request to the connector") }
        var reply = [UInt8](repeating: 0, count: 4)
        var fd: Int32 = -1
        let n = reply.withUnsafeMutableBytes { cove_recv_packet(channel, $0.baseAddress, 4, &fd) }
        if n < 0 { throw SyscallError("receive from the connector") }
        if n != 4 {
            if fd >= 0 { close(fd) }
            throw SyscallError("receive from the connector", errno: EPIPE)
        }
        let e = Int32(reply[0]) | Int32(reply[1]) << 8 | Int32(reply[2]) << 16 | Int32(reply[3]) << 24
        if e != 0 && fd >= 0 { close(fd); fd = -1 }
        return (fd, e)
    }

    /// At a quick end: killed, left for its new parent to reap.
    func kill() {
        close(channel)
        Glibc.kill(pid, SIGKILL)
    }

    /// At cove-net's end: the connector goes with it.
    func stop() {
        kill()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    /// In the connector: serves requests until cove-net closes its end.
    static func serve(_ channel: Int32) -> Never {
        var buf = [UInt8](repeating: 0, count: 64)
        while true {
            var passed: Int32 = -1
            let n = buf.withUnsafeMutableBytes { cove_recv_packet(channel, $0.baseAddress, UInt($0.count), &passed) }
            if passed >= 0 { close(passed) }
            if n <= 0 { _exit(0) }
            var fd: Int32 = -1
            var e: Int32 = EINVAL
            if let r = Request(decoding: Array(buf[0..<n])) {
                // A client not on loopback cannot keep its address here:
                // the socket then goes unbound, the kernel picks.
                let from = r.from.flatMap { $0.ip.isLoopback ? $0 : nil }
                (fd, e) = InetSockets.connect(udp: r.udp, from: from, to: r.to)
            }
            let reply: [UInt8] = [UInt8(e & 0xff), UInt8((e >> 8) & 0xff), UInt8((e >> 16) & 0xff), UInt8((e >> 24) & 0xff)]
            let sent = reply.withUnsafeBytes { cove_send_packet(channel, $0.baseAddress, 4, fd) }
            if fd >= 0 { close(fd) }
            if sent < 0 { _exit(0) }
        }
    }
}
