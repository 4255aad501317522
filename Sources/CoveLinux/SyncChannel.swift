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

    public func send(_ m: SyncMessage) throws {
        let bytes = m.encoded()
        while true {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n >= 0 { return }
            if errno != EINTR { throw SyscallError("send to setup channel") }
        }
    }

    /// The next message, or nil when the other side closed (or exec'd).
    public func receive() throws -> SyncMessage? {
        var buf = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return nil }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == ECONNRESET { return nil }
                throw SyscallError("receive from setup channel")
            }
            guard let m = SyncMessage(decoding: Array(buf[0..<n])) else {
                throw SyscallError("receive from setup channel", errno: EBADMSG)
            }
            return m
        }
    }

    public func close() { _ = Glibc.close(fd) }
}
