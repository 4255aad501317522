#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Compiled seccomp filters under `<root>/seccomp/<sha256>`, keyed by the
/// digest of the profile's JSON and of what compiled it: a repeat start
/// with the same profile reads the BPF instead of paying libseccomp again
/// (about 15 ms for podman's default profile here). Entries are written
/// under a temporary name and renamed, so a reader never sees half of one.
struct SeccompCache {
    let directory: String
    static let magic = Array("COVEBPF1".utf8)

    static func key(_ profile: JSON) -> String {
        SHA256.hex(Array("\(version)\n\(SeccompFilter.compilerIdentity)\n\(profile.serialized())".utf8))
    }

    func filter(for profile: SeccompProfile, json: JSON) throws -> SeccompFilter {
        let path = "\(directory)/\(SeccompCache.key(json))"
        if let bytes = try? Files.read(path, limit: 1 << 22), let f = SeccompCache.decode(bytes) { return f }
        let filter = try SeccompFilter.compile(profile)
        do {
            try Files.makeDirectories(directory, mode: 0o700)
            try Files.writeAtomically(path, SeccompCache.encode(filter), mode: 0o600, durable: false)
        } catch {
            RuntimeLog.logger.debug("seccomp cache not written: \(error)")
        }
        return filter
    }

    static func encode(_ f: SeccompFilter) -> [UInt8] {
        magic + (0..<4).map { UInt8(truncatingIfNeeded: f.flags >> (UInt32($0) * 8)) } + f.bpf
    }

    static func decode(_ bytes: [UInt8]) -> SeccompFilter? {
        guard bytes.count >= 12, Array(bytes[0..<8]) == magic, (bytes.count - 12) % 8 == 0 else { return nil }
        let flags = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[8 + $1]) << (UInt32($1) * 8) }
        return SeccompFilter(bpf: Array(bytes[12...]), flags: flags, skipped: [])
    }
}
