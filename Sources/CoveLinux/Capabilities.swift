#if canImport(Glibc)
import Glibc
#endif
import CCap
import CCoveShim

/// Capability sets through libcap. The order around the switch to the
/// process's user matters and is the caller's: bounding set first (it needs
/// CAP_SETPCAP), keep-caps across setuid, then the other sets, ambient last.
public enum Capabilities {
    /// The highest capability this kernel knows.
    public static let lastCap: Int32 = {
        if let t = try? Files.readText("/proc/sys/kernel/cap_last_cap"),
           let n = Int32(t.split(separator: "\n").first ?? "") { return n }
        return Int32(cap_max_bits()) - 1
    }()

    /// "CAP_SYS_ADMIN" (any case) → its number, or nil if neither libcap nor
    /// this kernel knows it.
    public static func value(of name: String) -> Int32? {
        var v: cap_value_t = 0
        guard cap_from_name(name.lowercased(), &v) == 0, v <= lastCap else { return nil }
        return Int32(v)
    }

    /// Names the kernel does not know are returned, not applied: a config
    /// written for a newer kernel still runs (as crun does).
    public static func values(_ names: [String]) -> (known: CapabilitySet, unknown: [String]) {
        var known = CapabilitySet()
        var unknown: [String] = []
        for n in names { if let v = value(of: n) { known.insert(v) } else { unknown.append(n) } }
        return (known, unknown)
    }

    public static func dropBounding(keeping: CapabilitySet) throws {
        for c in 0...lastCap where !keeping.contains(c) {
            if cap_drop_bound(cap_value_t(c)) != 0 { throw SyscallError("drop capability \(c) from the bounding set") }
        }
    }

    public static func setKeepCaps(_ on: Bool) throws {
        try check("set keep-caps", cove_set_keepcaps(on ? 1 : 0))
    }

    public static func set(effective: CapabilitySet, permitted: CapabilitySet, inheritable: CapabilitySet) throws {
        guard let caps = cap_init() else { throw SyscallError("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        func flag(_ which: cap_flag_t, _ set: CapabilitySet) throws {
            let list = set.values.map { cap_value_t($0) }
            if list.isEmpty { return }
            if cap_set_flag(caps, which, Int32(list.count), list, CAP_SET) != 0 { throw SyscallError("cap_set_flag") }
        }
        try flag(CAP_EFFECTIVE, effective)
        try flag(CAP_PERMITTED, permitted)
        try flag(CAP_INHERITABLE, inheritable)
        if cap_set_proc(caps) != 0 {
            throw SyscallError("set capabilities", hint: "effective and inheritable must lie within permitted")
        }
    }

    public static func raiseAmbient(_ set: CapabilitySet) throws {
        for c in set.values {
            if cap_set_ambient(cap_value_t(c), CAP_SET) != 0 {
                throw SyscallError("raise ambient capability \(c)", hint: "it must be permitted and inheritable")
            }
        }
    }
}

/// Capability numbers (0 to 63) as a bit mask: what init needs of a set,
/// without a hashed Set's generic metadata to make in every fresh process.
public struct CapabilitySet: Sendable, Equatable {
    public private(set) var bits: UInt64 = 0

    public init() {}

    public mutating func insert(_ c: Int32) {
        if (0..<64).contains(c) { bits |= 1 << UInt64(c) }
    }

    public func contains(_ c: Int32) -> Bool { (0..<64).contains(c) && bits & (1 << UInt64(c)) != 0 }

    /// The members, ascending.
    public var values: [Int32] {
        var out: [Int32] = []
        var c: Int32 = 0
        while c < 64 {
            if bits & (1 << UInt64(c)) != 0 { out.append(c) }
            c += 1
        }
        return out
    }
}
