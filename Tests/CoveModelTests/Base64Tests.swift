import Testing
@testable import CoveModel

struct Base64Tests {
    // RFC 4648, section 10.
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                      ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"), ("user:pa ss", "dXNlcjpwYSBzcw==")])
    func vectors(plain: String, encoded: String) {
        #expect(Base64.encode(plain) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func everyByteRoundTrips() {
        let bytes = (0...255).map(UInt8.init) + [0xff, 0xfe]
        #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(Base64.encode([0xfb, 0xff]) == "+/8=")
    }

    @Test(arguments: ["Zg=", "Zg", "Z===", "Zm9v\n", "Zg==Zg==", "Zm=v", "Zm9*", "=Zm9"])
    func refused(text: String) { #expect(Base64.decode(text) == nil) }
}
