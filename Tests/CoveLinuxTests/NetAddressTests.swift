import Testing
@testable import CoveLinux

struct NetAddressTests {
    @Test(arguments: [
        ("10.0.2.100", "10.0.2.100"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
    ])
    func parsesDottedQuads(text: String, printed: String) throws {
        let a = try #require(IPv4Address(text))
        #expect(a.description == printed)
    }

    @Test(arguments: ["", "10.0.2", "10.0.2.256", "10.0.2.1.5", "10..2.1", "a.b.c.d", "10.0.2.-1", "+1.0.0.0"])
    func rejectsWhatIsNotADottedQuad(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func rawIsNetworkByteOrder() {
        let a = IPv4Address(10, 0, 2, 2)
        withUnsafeBytes(of: a.raw) { #expect(Array($0) == [10, 0, 2, 2]) }
    }

    @Test(arguments: [(0, "0.0.0.0"), (8, "255.0.0.0"), (24, "255.255.255.0"), (30, "255.255.255.252"), (32, "255.255.255.255")])
    func prefixLengthsBecomeNetmasks(length: Int, mask: String) {
        #expect(IPv4Address(prefixLength: length).description == mask)
    }
}

struct IPAddressTests {
    @Test(arguments: [("127.0.0.1", true), ("127.9.8.7", true), ("10.0.2.2", false), ("::1", true),
                      ("::ffff:127.0.0.2", true), ("::ffff:10.0.0.1", false), ("fd00::100", false), ("::", false)])
    func knowsLoopback(text: String, loopback: Bool) throws {
        let a = try #require(IPAddress(text))
        #expect(a.isLoopback == loopback)
    }

    @Test(arguments: [("fd00::100", "fd00::100"), ("[::1]", "::1"), ("10.0.2.3", "10.0.2.3"),
                      ("FD00:0:0:0:0:0:0:2", "fd00::2")])
    func parsesAndPrints(text: String, printed: String) throws {
        #expect(try #require(IPAddress(text)).description == printed)
    }

    @Test(arguments: ["", "fd00::1::2", "1.2.3", "[10.0.2.3", "host.example"])
    func rejectsWhatIsNoAddress(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func socketAddressesPrintWithBracketsForIPv6() throws {
        #expect(SocketAddress(try #require(IPAddress("::1")), 53).description == "[::1]:53")
        #expect(SocketAddress(.loopback4, 8080).description == "127.0.0.1:8080")
        #expect(IPAddress(IPv4Address(10, 0, 2, 3)).bytes == [10, 0, 2, 3])
    }
}

struct ResolverChoiceTests {
    @Test func realServersAreTakenAsTheyAre() {
        let r = Resolvers.choose(resolvConf: "# generated\nsearch example\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n",
                                 systemdResolvConf: "nameserver 198.51.100.1\n")
        #expect(r.map(\.description) == ["192.0.2.53:53", "[2001:db8::53]:53"])
    }

    @Test func aStubLeadsToSystemdsUpstreams() {
        let r = Resolvers.choose(resolvConf: "nameserver 127.0.0.53\noptions edns0 trust-ad\n",
                                 systemdResolvConf: "nameserver 198.51.100.1\nnameserver\t198.51.100.2\nnameserver fe80::1%eth0\n")
        #expect(r.map(\.description) == ["198.51.100.1:53", "198.51.100.2:53"])
    }

    @Test func aStubWithoutSystemdsFileStaysTheStub() {
        let r = Resolvers.choose(resolvConf: "nameserver 127.0.0.53\n", systemdResolvConf: "")
        #expect(r.map(\.description) == ["127.0.0.53:53"])
    }

    @Test func nothingListedIsNothing() {
        #expect(Resolvers.choose(resolvConf: "search example\n", systemdResolvConf: "nameserver 198.51.100.1\n").isEmpty)
    }
}

struct DNSFrameTests {
    static let guestMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x64]
    static let slirpMAC: [UInt8] = [0x52, 0x55, 10, 0, 2, 3]

    /// An Ethernet frame with a UDP/IPv4 datagram from 10.0.2.100:40000.
    static func frame(to dst: [UInt8], port: UInt16, payload: [UInt8], fragmentOffset: UInt16 = 0) -> [UInt8] {
        let udpLength = 8 + payload.count
        var ip: [UInt8] = [0x45, 0, UInt8((20 + udpLength) >> 8), UInt8((20 + udpLength) & 0xff), 0, 1,
                           UInt8(fragmentOffset >> 8), UInt8(fragmentOffset & 0xff), 64, 17, 0, 0, 10, 0, 2, 100] + dst
        let s = DNSFrames.checksum(ip)
        ip[10] = UInt8(s >> 8)
        ip[11] = UInt8(s & 0xff)
        let udp: [UInt8] = [0x9c, 0x40, UInt8(port >> 8), UInt8(port & 0xff), UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        return slirpMAC + guestMAC + [0x08, 0x00] + ip + udp + payload
    }

    static let question: [UInt8] = [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 4] + Array("cove".utf8) + [4] + Array("test".utf8)
        + [0, 0, 1, 0, 1]

    static func classify(_ f: [UInt8]) -> DNSFrames.Verdict {
        f.withUnsafeBytes { DNSFrames.classify($0, resolver: IPv4Address(10, 0, 2, 3)) }
    }

    @Test func aQueryToTheResolverIsTaken() throws {
        let v = DNSFrameTests.classify(DNSFrameTests.frame(to: [10, 0, 2, 3], port: 53, payload: DNSFrameTests.question))
        guard case let .query(q) = v else { Issue.record("not taken: \(v)"); return }
        #expect(q.payload == DNSFrameTests.question)
    }

    @Test(arguments: [([UInt8]([10, 0, 2, 2]), UInt16(53), UInt16(0)), ([10, 0, 2, 3], 5353, 0), ([10, 0, 2, 3], 53, 0x2000)])
    func otherTrafficIsLeftToSlirp(dst: [UInt8], port: UInt16, fragment: UInt16) {
        let f = DNSFrameTests.frame(to: dst, port: port, payload: DNSFrameTests.question, fragmentOffset: fragment)
        #expect(DNSFrameTests.classify(f) == .notForUs)
    }

    @Test func aTruncatedQueryIsDropped() {
        var f = DNSFrameTests.frame(to: [10, 0, 2, 3], port: 53, payload: DNSFrameTests.question)
        f.removeLast(10)
        #expect(DNSFrameTests.classify(f) == .malformed)
    }

    /// The reply goes back where the query came from, and both checksums
    /// verify (a sum over the covered bytes with the checksum in is zero).
    @Test func theReplyIsAddressedAndChecksummed() throws {
        let v = DNSFrameTests.classify(DNSFrameTests.frame(to: [10, 0, 2, 3], port: 53, payload: DNSFrameTests.question))
        guard case let .query(q) = v else { Issue.record("not taken"); return }
        let answer = DNSFrameTests.question + [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7]
        let r = DNSFrames.reply(to: q, answer: answer, ipID: 7)
        #expect(Array(r[0..<6]) == DNSFrameTests.guestMAC)
        #expect(Array(r[6..<12]) == DNSFrameTests.slirpMAC)
        let ip = Array(r[14..<34])
        #expect(Array(ip[12..<16]) == [10, 0, 2, 3])
        #expect(Array(ip[16..<20]) == [10, 0, 2, 100])
        #expect(DNSFrames.checksum(ip) == 0)
        let udp = Array(r[34...])
        #expect(udp[0] == 0 && udp[1] == 53)
        #expect(udp[2] == 0x9c && udp[3] == 0x40)
        #expect(Int(udp[4]) << 8 | Int(udp[5]) == 8 + answer.count)
        #expect(DNSFrames.checksum(udp, initial: DNSFrames.pseudoHeaderSum(ip, udpLength: udp.count)) == 0)
        #expect(Array(udp[8...]) == answer)
    }
}
