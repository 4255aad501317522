import CSHA256

/// SHA-256 (FIPS 180-4), for content digests everywhere in cove: blobs in
/// the store, diff_ids as cove-fs unpacks, chain IDs, the seccomp cache.
/// The work is CSHA256's: the x86-64 SHA extensions where the CPU has them
/// (about 1.4 GB/s here), portable C otherwise.
public struct SHA256 {
    private var context = cove_sha256_ctx()

    public init() { cove_sha256_init(&context) }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let array = bytes as? [UInt8] ?? Array(bytes)
        array.withUnsafeBufferPointer { update($0) }
    }

    public mutating func update(_ input: UnsafeBufferPointer<UInt8>) {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        cove_sha256_update(&context, base, input.count)
    }

    public mutating func update(_ input: UnsafeRawBufferPointer) {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        cove_sha256_update(&context, base, input.count)
    }

    /// The digest; the hasher starts over afterwards.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { cove_sha256_final(&context, $0.baseAddress) }
        cove_sha256_init(&context)
        return out
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var s = SHA256()
        s.update(bytes)
        return hexString(s.finalize())
    }

    /// Lowercase hex of a digest.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// Whether the SHA extensions do the work.
    public static var accelerated: Bool { cove_sha256_accelerated() != 0 }

    /// The portable code only, from now on in this process (tests).
    public static func usePortableCodeOnly() { cove_sha256_portable_only() }
}
