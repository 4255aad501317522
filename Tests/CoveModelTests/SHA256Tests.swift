import Testing
@testable import CoveModel

struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(input: String, digest: String) { #expect(SHA256.hex(Array(input.utf8)) == digest) }

    @Test func aMillionAs() {
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Every length around the block and padding edges, fed whole and in
    /// odd pieces, gives one digest; and the SHA-extension code agrees with
    /// the portable code (run last here: it switches this process over).
    @Test func bothCodePathsAndEverySplitAgree() {
        let data = (0..<4099).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        func digests() -> [[UInt8]] {
            [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099].map { n in
                var whole = SHA256()
                whole.update(Array(data[0..<n]))
                let d = whole.finalize()
                var pieces = SHA256()
                var i = 0
                while i < n { let j = min(n, i + 1 + i % 13); pieces.update(Array(data[i..<j])); i = j }
                #expect(pieces.finalize() == d, "length \(n)")
                return d
            }
        }
        let first = digests()
        #expect(SHA256.hex(data) == "\(SHA256.hexString(first.last!))")
        SHA256.usePortableCodeOnly()
        #expect(!SHA256.accelerated)
        #expect(digests() == first)
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
