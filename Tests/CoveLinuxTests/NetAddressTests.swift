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
