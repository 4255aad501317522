/// One line of /etc/subuid or /etc/subgid that applies to a user.
public struct SubordinateRange: Equatable, Sendable {
    public var start: UInt32
    public var count: UInt32
    public init(start: UInt32, count: UInt32) { self.start = start; self.count = count }

    /// Ranges for `user` (by name or by numeric id) in the text of /etc/subuid.
    public static func parse(_ text: String, user: String, id: UInt32) -> [SubordinateRange] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            guard f.count == 3, f[0] == user || f[0] == String(id),
                  let s = UInt32(f[1].trimmingSpaces), let c = UInt32(f[2].trimmingSpaces), c > 0 else { return nil }
            return SubordinateRange(start: s, count: c)
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s = s.dropLast() }
        return s
    }
}

/// How a new user namespace gets its maps.
public enum IDMapPlan: Equatable, Sendable {
    /// A single line mapping the caller's own id: written directly to
    /// /proc/PID/{uid,gid}_map (for gids after setgroups is denied).
    case direct(RuntimeSpec.IDMapping)
    /// Anything else: newuidmap/newgidmap check it against /etc/sub[ug]id.
    case helper([RuntimeSpec.IDMapping])

    /// The maps used when the config asks for a user namespace but lists
    /// none: the caller is root inside and, where the admin granted a
    /// range, ids 1… map onto it, as podman does.
    public static func defaultMappings(ownID: UInt32, ranges: [SubordinateRange]) -> [RuntimeSpec.IDMapping] {
        var maps = [RuntimeSpec.IDMapping(containerID: 0, hostID: ownID, size: 1)]
        var next: UInt32 = 1
        for r in ranges {
            maps.append(RuntimeSpec.IDMapping(containerID: next, hostID: r.start, size: r.count))
            let (n, o) = next.addingReportingOverflow(r.count)
            if o { break }
            next = n
        }
        return maps
    }

    public static func plan(_ maps: [RuntimeSpec.IDMapping], ownID: UInt32) -> IDMapPlan {
        if maps.count == 1, maps[0].hostID == ownID, maps[0].size == 1 { return .direct(maps[0]) }
        return .helper(maps)
    }

    /// Checks a mapping list the kernel would refuse, with a readable reason.
    public static func validate(_ maps: [RuntimeSpec.IDMapping], kind: String) -> String? {
        if maps.isEmpty { return "no \(kind) mappings" }
        if maps.count > 340 { return "more than 340 \(kind) mappings" }
        for (i, m) in maps.enumerated() {
            if m.size == 0 { return "\(kind) mapping \(i) has size 0" }
            for n in maps[(i + 1)...] {
                let a = (UInt64(m.containerID), UInt64(m.containerID) + UInt64(m.size))
                let b = (UInt64(n.containerID), UInt64(n.containerID) + UInt64(n.size))
                if a.0 < b.1 && b.0 < a.1 { return "\(kind) mappings overlap inside the container" }
            }
        }
        return nil
    }
}
