#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

/// TCP sequence numbers compared modulo 2^32 (RFC 793 §3.3): `a` is before
/// `b` when b - a, as a signed 32-bit number, is positive.
public enum TCPSeq {
    @inline(__always) public static func distance(from a: UInt32, to b: UInt32) -> Int {
        Int(Int32(bitPattern: b &- a))
    }
    @inline(__always) public static func lessThan(_ a: UInt32, _ b: UInt32) -> Bool { distance(from: a, to: b) > 0 }
    @inline(__always) public static func lessOrEqual(_ a: UInt32, _ b: UInt32) -> Bool { distance(from: a, to: b) >= 0 }
}

public struct TCPFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
}

/// One TCP/IPv4 segment in an Ethernet frame, as the container sent it.
public struct TCPSegment: Sendable {
    public var sourceMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    public var destinationMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    public var source: UInt32          // IPv4, host byte order
    public var destination: UInt32
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var seq: UInt32
    public var ack: UInt32
    public var flags: TCPFlags
    public var window: UInt16
    /// Options of a SYN: maximum segment size and window scale, if sent.
    public var mss: UInt16?
    public var windowScale: UInt8?
    /// Where the payload is in the frame, and its length.
    public var payloadOffset: Int
    public var payloadCount: Int

    /// The sequence space the segment takes: its payload, plus one each
    /// for SYN and FIN.
    public var length: Int { payloadCount + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0) }
}

/// Both ends of a translated connection as frames name them.
public struct TCPEndpoints: Sendable {
    public var containerMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    public var gatewayMAC: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    public var container: UInt32       // IPv4, host byte order
    public var gateway: UInt32
    public var containerPort: UInt16
    public var gatewayPort: UInt16

    /// The endpoints of the connection `s` belongs to.
    public init(_ s: TCPSegment) {
        containerMAC = s.sourceMAC
        gatewayMAC = s.destinationMAC
        container = s.source
        gateway = s.destination
        containerPort = s.sourcePort
        gatewayPort = s.destinationPort
    }
}

/// Frames of TCP translation: segments from the container parsed, segments
/// to it built in place with their IPv4 and TCP checksums.
public enum TCPFrames {
    /// Ethernet (14), IPv4 (20) and TCP (20) headers without options.
    public static let headerCount = 14 + 20 + 20

    /// The segment in `frame` if it is an unfragmented TCP/IPv4 one to
    /// `destination` (host byte order) in an untagged Ethernet frame.
    public static func parse(_ frame: UnsafeRawBufferPointer, to destination: UInt32) -> TCPSegment? {
        guard frame.count >= headerCount, frame[12] == 0x08, frame[13] == 0x00,
              frame[14] >> 4 == 4, frame[14 + 9] == 6 else { return nil }
        let ihl = Int(frame[14] & 0x0f) * 4
        let dst = be32(frame, 30)
        guard ihl >= 20, dst == destination else { return nil }
        // Fragments (offset or more-fragments set) are left to libslirp.
        guard be16(frame, 20) & 0x3fff == 0 else { return nil }
        let total = Int(be16(frame, 16))
        let tcp = 14 + ihl
        guard total >= ihl + 20, 14 + total <= frame.count else { return nil }
        let dataOffset = Int(frame[tcp + 12] >> 4) * 4
        guard dataOffset >= 20, ihl + dataOffset <= total else { return nil }
        var s = TCPSegment(
            sourceMAC: (frame[6], frame[7], frame[8], frame[9], frame[10], frame[11]),
            destinationMAC: (frame[0], frame[1], frame[2], frame[3], frame[4], frame[5]),
            source: be32(frame, 26), destination: dst,
            sourcePort: be16(frame, tcp), destinationPort: be16(frame, tcp + 2),
            seq: be32(frame, tcp + 4), ack: be32(frame, tcp + 8),
            flags: TCPFlags(rawValue: frame[tcp + 13] & 0x1f), window: be16(frame, tcp + 14),
            mss: nil, windowScale: nil,
            payloadOffset: tcp + dataOffset, payloadCount: total - ihl - dataOffset)
        if s.flags.contains(.syn) {
            var i = tcp + 20
            let end = tcp + dataOffset
            // Bounded by the header's length: every step moves on at least one byte.
            while i < end {
                let kind = frame[i]
                if kind == 0 { break }
                if kind == 1 { i += 1; continue }
                guard i + 1 < end else { break }
                let len = Int(frame[i + 1])
                guard len >= 2, i + len <= end else { break }
                if kind == 2, len == 4 { s.mss = be16(frame, i + 2) }
                if kind == 3, len == 3 { s.windowScale = min(frame[i + 2], 14) }
                i += len
            }
        }
        return s
    }

    /// Writes the Ethernet, IPv4 and TCP headers (and `options`, a multiple
    /// of four bytes) of a segment to the container at the start of `buf`,
    /// the payload being already in place after them (at headerCount +
    /// options.count), and fills in both checksums. Returns the frame's length.
    public static func build(into buf: UnsafeMutableRawPointer, _ e: TCPEndpoints, seq: UInt32, ack: UInt32,
                             flags: TCPFlags, window: UInt16, options: [UInt8] = [], payloadCount: Int,
                             ipID: UInt16) -> Int {
        let b = buf.assumingMemoryBound(to: UInt8.self)
        withUnsafeBytes(of: e.containerMAC) { for i in 0..<6 { b[i] = $0[i] } }
        withUnsafeBytes(of: e.gatewayMAC) { for i in 0..<6 { b[6 + i] = $0[i] } }
        b[12] = 0x08
        b[13] = 0x00
        let tcpCount = 20 + options.count + payloadCount
        let ip = b + 14
        ip[0] = 0x45
        ip[1] = 0
        put16(ip + 2, UInt16(20 + tcpCount))
        put16(ip + 4, ipID)
        put16(ip + 6, 0x4000)              // don't fragment
        ip[8] = 64
        ip[9] = 6
        put16(ip + 10, 0)
        put32(ip + 12, e.gateway)
        put32(ip + 16, e.container)
        put16(ip + 10, checksum(UnsafeRawBufferPointer(start: ip, count: 20)))
        let t = ip + 20
        put16(t, e.gatewayPort)
        put16(t + 2, e.containerPort)
        put32(t + 4, seq)
        put32(t + 8, ack)
        t[12] = UInt8((20 + options.count) / 4) << 4
        t[13] = flags.rawValue
        put16(t + 14, window)
        put16(t + 16, 0)
        put16(t + 18, 0)
        for (i, o) in options.enumerated() { t[20 + i] = o }
        // The pseudo-header: both addresses, the protocol, the TCP length.
        let pseudo = UInt32(e.gateway >> 16) + UInt32(e.gateway & 0xffff) + UInt32(e.container >> 16)
            + UInt32(e.container & 0xffff) + 6 + UInt32(tcpCount)
        put16(t + 16, checksum(UnsafeRawBufferPointer(start: t, count: tcpCount), initial: pseudo))
        return 14 + 20 + tcpCount
    }

    /// SYN-ACK options: the maximum segment size and, when the container
    /// offered scaling, our window scale (RFC 7323), padded to four bytes.
    public static func synOptions(mss: UInt16, windowScale: UInt8?) -> [UInt8] {
        var o: [UInt8] = [2, 4, UInt8(mss >> 8), UInt8(mss & 0xff)]
        if let windowScale { o += [1, 3, 3, windowScale] }
        return o
    }

    /// The Internet checksum (RFC 1071) of `bytes` with a partial sum (of
    /// big-endian 16-bit words) to start from. Eight bytes at a time: the
    /// ones' complement sum does not depend on the order bytes are added in
    /// (RFC 1071 §2(B)), so native words are summed and the result swapped.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt16 {
        var acc: UInt64 = 0
        var i = 0
        let n = bytes.count
        if let base = bytes.baseAddress {
            @inline(__always) func add(_ x: UInt64) {
                let (r, o) = acc.addingReportingOverflow(x)
                acc = r &+ (o ? 1 : 0)
            }
            while i + 32 <= n {
                add(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                add(base.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                add(base.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                add(base.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                i += 32
            }
            while i + 8 <= n {
                add(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            var tail: UInt64 = 0
            var k = 0
            while i < n {
                tail |= UInt64(bytes[i]) << (8 * k)
                i += 1
                k += 1
            }
            add(tail)
        }
        var s = (acc & 0xffff_ffff) + (acc >> 32)
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        #if _endian(little)
        var total = UInt32(UInt16(s).byteSwapped) + initial
        #else
        var total = UInt32(s) + initial
        #endif
        total = (total & 0xffff) + (total >> 16)
        total = (total & 0xffff) + (total >> 16)
        return ~UInt16(total)
    }

    @inline(__always) static func be16(_ f: UnsafeRawBufferPointer, _ i: Int) -> UInt16 {
        UInt16(f[i]) << 8 | UInt16(f[i + 1])
    }
    @inline(__always) static func be32(_ f: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(f[i]) << 24 | UInt32(f[i + 1]) << 16 | UInt32(f[i + 2]) << 8 | UInt32(f[i + 3])
    }
    @inline(__always) static func put16(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt16) {
        p[0] = UInt8(v >> 8)
        p[1] = UInt8(v & 0xff)
    }
    @inline(__always) static func put32(_ p: UnsafeMutablePointer<UInt8>, _ v: UInt32) {
        p[0] = UInt8(v >> 24)
        p[1] = UInt8((v >> 16) & 0xff)
        p[2] = UInt8((v >> 8) & 0xff)
        p[3] = UInt8(v & 0xff)
    }
}

extension InetSockets {
    /// Sets SO_PEEK_OFF; false where the kernel has none for TCP (before 6.9).
    public static func setPeekOffset(_ fd: Int32, _ offset: Int) -> Bool { cove_set_peek_offset(fd, Int32(offset)) == 0 }
    /// What the send buffer can still take (see cove_tcp_send_room); 0 on error.
    public static func sendRoom(_ fd: Int32) -> Int { max(0, Int(cove_tcp_send_room(fd))) }
    public static func noDelay(_ fd: Int32) { _ = cove_tcp_nodelay(fd) }
}

/// An edge-triggered epoll set, for sockets whose readiness stays on while
/// nothing new happens (a TCP socket holding bytes peeked but not yet
/// read polls readable all along): each event is reported once, when it
/// happens. Its own fd polls readable while events wait.
public final class EdgeTriggeredSet {
    public let fd: Int32
    private var keys = [UInt64](repeating: 0, count: 64)
    private var events = [UInt32](repeating: 0, count: 64)

    public init() throws { fd = try check("epoll_create1", cove_epoll_create()) }
    deinit { close(fd) }

    /// Watches `socket` for input, output, errors and the peer's shutdown.
    public func add(_ socket: Int32, key: UInt64) -> Bool { cove_epoll_add(fd, socket, key) == 0 }

    /// The events that happened since the last call, without waiting (at
    /// most 64): each socket's key and its events as poll(2) bits.
    public func ready(_ body: (UInt64, UInt32) -> Void) {
        let n = keys.withUnsafeMutableBufferPointer { k in
            events.withUnsafeMutableBufferPointer { e in cove_epoll_ready(fd, k.baseAddress, e.baseAddress, 64) }
        }
        for i in 0..<max(0, Int(n)) { body(keys[i], events[i]) }
    }
}
