import CCoveShim
import CoveModel
import Testing

/// cove-fs hashes layers with the CPU's SHA instructions: the digests must
/// be CoveModel.SHA256's for every length around the 64-byte block and its
/// 56-byte padding limit, fed in any chunking.
@Suite(.enabled(if: cove_sha256_hw_available() != 0, "this CPU has no SHA extensions: cove-fs uses CoveModel.SHA256"))
struct SHA256HardwareTests {
    static func hardware(_ bytes: [UInt8], chunk: Int) -> String {
        var ctx = cove_sha256_ctx()
        cove_sha256_hw_init(&ctx)
        bytes.withUnsafeBufferPointer { p in
            var offset = 0
            while offset < p.count {
                let n = min(chunk, p.count - offset)
                if let base = p.baseAddress { cove_sha256_hw_update(&ctx, base + offset, n) }
                offset += n
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        cove_sha256_hw_final(&ctx, &out)
        return SHA256.hexString(out)
    }

    @Test func knownVectors() {
        #expect(Self.hardware(Array("abc".utf8), chunk: 3)
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hardware([], chunk: 1) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(Self.hardware(long, chunk: 5) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test(arguments: [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 100_003])
    func matchesThePortableCode(length: Int) {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let expected = SHA256.hex(bytes)
        for chunk in [1, 7, 63, 64, 65, 4096, 1 << 20] {
            #expect(Self.hardware(bytes, chunk: chunk) == expected, "length \(length), chunks of \(chunk)")
        }
    }
}
