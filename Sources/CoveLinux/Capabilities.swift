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
    public static func values(_ names: [String]) -> (known: Set<Int32>, unknown: [String]) {
        var known = Set<Int32>()
        var unknown: [String] = []
        for n in names { if let v = value(of: n) { known.insert(v) } else { unknown.append(n) } }
        return (known, unknown)
    }

    public static func dropBounding(keeping: Set<Int32>) throws {
        for c in 0...lastCap where !keeping.contains(c) {
            if cap_drop_bound(cap_value_t(c)) != 0 { throw SyscallError("drop capability \(c) from the bounding set") }
        }
    }

    public static func setKeepCaps(_ on: Bool) throws {
        try check("set keep-caps", cove_set_keepcaps(on ? 1 : 0))
    }

    public static func set(effective: Set<Int32>, permitted: Set<Int32>, inheritable: Set<Int32>) throws {
        guard let caps = cap_init() else { throw SyscallError("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        func flag(_ which: cap_flag_t, _ set: Set<Int32>) throws {
            let list = set.sorted().map { cap_value_t($0) }
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

    public static func raiseAmbient(_ set: Set<Int32>) throws {
        for c in set.sorted() {
            if cap_set_ambient(cap_value_t(c), CAP_SET) != 0 {
                throw SyscallError("raise ambient capability \(c)", hint: "it must be permitted and inheritable")
            }
        }
    }
}
