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
