#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveModel

/// One end of the SOCK_SEQPACKET pair over which cove-unshare's stages talk.
public struct SyncChannel: Sendable {
    public let fd: Int32

    public init(fd: Int32) { self.fd = fd }

    public static func pair() throws -> (SyncChannel, SyncChannel) {
        var fds: [Int32] = [-1, -1]
        try check("socketpair", cove_seqpacket_pair(&fds))
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    public func send(_ m: SyncMessage, fd attached: Int32 = -1) throws {
        let bytes = m.encoded()
        let n = bytes.withUnsafeBytes { cove_send_packet(fd, $0.baseAddress, UInt($0.count), attached) }
        if n < 0 { throw SyscallError("send to setup channel") }
    }

    /// The next message, or nil when the other side closed (or exec'd).
    public func receive() throws -> SyncMessage? { try receiveWithFD()?.0 }

    /// The next message and the fd that came with it (-1 for none).
    public func receiveWithFD() throws -> (SyncMessage, Int32)? {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var passed: Int32 = -1
        let n = buf.withUnsafeMutableBytes { cove_recv_packet(fd, $0.baseAddress, UInt($0.count), &passed) }
        if n == 0 { return nil }
        if n < 0 {
            if errno == ECONNRESET { return nil }
            throw SyscallError("receive from setup channel")
        }
        guard let m = SyncMessage(decoding: Array(buf[0..<n])) else {
            if passed >= 0 { Glibc.close(passed) }
            throw SyscallError("receive from setup channel", errno: EBADMSG)
        }
        return (m, passed)
    }

    /// Whether a message (or the other side's end) is there within
    /// `milliseconds` (0: now, without waiting).
    public func isReadable(within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var n: Int32 = -1
        repeat { n = poll(&p, 1, milliseconds) } while n < 0 && errno == EINTR
        return n == 1
    }

    public func close() { _ = Glibc.close(fd) }
}
