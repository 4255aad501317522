import Testing
@testable import CoveLinux

struct TCPFramesTests {
    static let container: UInt32 = 0x0a00_0264      // 10.0.2.100
    static let gateway: UInt32 = 0x0a00_0202        // 10.0.2.2

    static var ends: TCPEndpoints {
        var e = TCPEndpoints(TCPSegment(
            sourceMAC: (2, 0, 0, 0, 0, 1), destinationMAC: (0x52, 0x55, 10, 0, 2, 2),
            source: container, destination: gateway, sourcePort: 40000, destinationPort: 8080,
            seq: 0, ack: 0, flags: [], window: 0, mss: nil, windowScale: nil, payloadOffset: 0, payloadCount: 0))
        e.containerPort = 40000
        return e
    }

    /// RFC 1071's sum, byte by byte: what the fast one must agree with.
    static func reference(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        var s = UInt64(initial)
        var i = 0
        while i + 1 < bytes.count {
            s += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt64(bytes[i]) << 8 }
        while s >> 16 != 0 { s = (s & 0xffff) + (s >> 16) }
        return ~UInt16(s)
    }

    @Test func theChecksumOfAKnownIPv4Header() {
        // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7
        let h: [UInt8] = [0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]
        #expect(h.withUnsafeBytes { TCPFrames.checksum($0) } == 0xb861)
    }

    @Test func theFastChecksumAgreesWithRFC1071AtEveryLengthAndAlignment() {
        var g = SystemRandomNumberGenerator()
        for length in Array(0..<80) + [1500, 65519, 65520] {
            let bytes = (0..<(length + 3)).map { _ in UInt8.random(in: 0...255, using: &g) }
            for start in 0..<3 {
                let slice = Array(bytes[start..<(start + length)])
                let initial = UInt32.random(in: 0...0x3_ffff, using: &g)
                let fast = bytes.withUnsafeBytes { TCPFrames.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]), initial: initial) }
                #expect(fast == Self.reference(slice, initial: initial), "length \(length) at offset \(start)")
            }
        }
        // All ones: the sum wraps around many times.
        let ones = [UInt8](repeating: 0xff, count: 65536)
        #expect(ones.withUnsafeBytes { TCPFrames.checksum($0) } == Self.reference(ones))
    }

    @Test func aBuiltSegmentParsesBackWithValidChecksums() throws {
        let payload: [UInt8] = Array("hello through the gateway".utf8)
        let buf = UnsafeMutableRawPointer.allocate(byteCount: 2048, alignment: 16)
        defer { buf.deallocate() }
        (buf + TCPFrames.headerCount).copyMemory(from: payload, byteCount: payload.count)
        let len = TCPFrames.build(into: buf, Self.ends, seq: 0xffff_fff0, ack: 12345, flags: [.ack, .psh], window: 777,
                                  payloadCount: payload.count, ipID: 9)
        #expect(len == TCPFrames.headerCount + payload.count)
        let frame = UnsafeRawBufferPointer(start: buf, count: len)
        // Sent to the container: it parses as a segment to the container's address.
        let s = try #require(TCPFrames.parse(frame, to: Self.container))
        #expect(s.source == Self.gateway && s.sourcePort == 8080 && s.destinationPort == 40000)
        #expect(s.seq == 0xffff_fff0 && s.ack == 12345 && s.window == 777 && s.flags == [.ack, .psh])
        #expect(Array(frame[s.payloadOffset..<(s.payloadOffset + s.payloadCount)]) == payload)
        #expect(Array(frame[0..<6]) == [2, 0, 0, 0, 0, 1], "to the container's MAC")
        #expect(Array(frame[6..<12]) == [0x52, 0x55, 10, 0, 2, 2], "from the gateway's")
        // A header summed with its checksum in place gives 0.
        #expect(TCPFrames.checksum(UnsafeRawBufferPointer(rebasing: frame[14..<34])) == 0)
        let tcpCount = len - 34
        let pseudo = (Self.gateway >> 16) + (Self.gateway & 0xffff) + (Self.container >> 16) + (Self.container & 0xffff)
            + 6 + UInt32(tcpCount)
        #expect(TCPFrames.checksum(UnsafeRawBufferPointer(rebasing: frame[34..<len]), initial: pseudo) == 0)
        // Nor is it taken for a segment to the gateway.
        #expect(TCPFrames.parse(frame, to: Self.gateway) == nil)
    }

    @Test func aSynAckCarriesMSSAndWindowScale() throws {
        let buf = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)
        defer { buf.deallocate() }
        let len = TCPFrames.build(into: buf, Self.ends, seq: 1, ack: 2, flags: [.syn, .ack], window: 65535,
                                  options: TCPFrames.synOptions(mss: 65480, windowScale: 7), payloadCount: 0, ipID: 1)
        #expect(len == TCPFrames.headerCount + 8)
        let s = try #require(TCPFrames.parse(UnsafeRawBufferPointer(start: buf, count: len), to: Self.container))
        #expect(s.mss == 65480 && s.windowScale == 7 && s.payloadCount == 0 && s.length == 1)
        #expect(TCPFrames.synOptions(mss: 1460, windowScale: nil) == [2, 4, 0x05, 0xb4])
    }

    /// A SYN as Linux sends it: MSS, SACK permitted, timestamps, NOP, window scale.
    @Test func theContainersSynOptionsAreRead() throws {
        var f: [UInt8] = [0x52, 0x55, 10, 0, 2, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]
        f += [0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 2, 100, 10, 0, 2, 2]
        f += [0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 42, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0]
        f += [2, 4, 0xff, 0xc8, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 9]
        let s = try #require(f.withUnsafeBytes { TCPFrames.parse($0, to: Self.gateway) })
        #expect(s.flags == .syn && s.seq == 42 && s.sourcePort == 40000 && s.destinationPort == 8080)
        #expect(s.mss == 65480 && s.windowScale == 9 && s.payloadCount == 0)
        // A fragment, UDP, or a truncated frame: not ours.
        var fragment = f
        fragment[20] = 0x20
        #expect(fragment.withUnsafeBytes { TCPFrames.parse($0, to: Self.gateway) } == nil)
        var udp = f
        udp[23] = 17
        #expect(udp.withUnsafeBytes { TCPFrames.parse($0, to: Self.gateway) } == nil)
        #expect(Array(f[0..<60]).withUnsafeBytes { TCPFrames.parse($0, to: Self.gateway) } == nil)
    }

    @Test(arguments: [(UInt32(1), UInt32(2), true), (0xffff_fff0, 5, true), (5, 0xffff_fff0, false), (7, 7, false)])
    func sequenceNumbersCompareAcrossTheWrap(a: UInt32, b: UInt32, before: Bool) {
        #expect(TCPSeq.lessThan(a, b) == before)
        #expect(TCPSeq.lessOrEqual(a, b) == (before || a == b))
        #expect(TCPSeq.distance(from: a, to: b) == Int(Int32(bitPattern: b &- a)))
    }
}
