#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// `--userns=keep-id`: the caller's own uid and gid inside equal those
/// outside, with no chown pass over the image.
///
/// Layers are stored with the default mapping (caller → 0, the k-th
/// subordinate id → k+1). The container's user namespace instead maps
/// 0..<U onto the first U subordinate ids, U onto the caller, and the rest
/// of the subordinate ids onto U+1…, so a file the container's user
/// creates on a bind mount is the caller's outside. The image's files keep
/// their image owners through fuse-overlayfs's `uidmapping=`/`gidmapping=`,
/// whose triples read (as tried with fuse-overlayfs 1.10) id on disk as the
/// container's namespace sees it : id presented : count: U → 0, k → 1+k for
/// k < U, identity above U.
///
/// The kernel's idmapped mounts cannot do this here: mount_setattr with
/// MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the filesystem's own user
/// namespace (the host's for a disk filesystem), which a rootless user
/// namespace never has (EPERM; tried on this kernel, see the h4 report).
public struct KeepIDPlan: Equatable, Sendable {
    public var uid: UInt32
    public var gid: UInt32
    public var uidMappings: [RuntimeSpec.IDMapping]
    public var gidMappings: [RuntimeSpec.IDMapping]
    /// fuse-overlayfs options: uidmapping=…, gidmapping=…
    public var fuseOptions: [String]

    public init(uid: UInt32, gid: UInt32, subuids: [SubordinateRange], subgids: [SubordinateRange]) throws {
        self.uid = uid
        self.gid = gid
        let (um, uf) = try Self.plan(own: uid, ranges: subuids, kind: "uid")
        let (gm, gf) = try Self.plan(own: gid, ranges: subgids, kind: "gid")
        uidMappings = um
        gidMappings = gm
        fuseOptions = ["uidmapping=" + uf, "gidmapping=" + gf]
    }

    /// The caller's plan from /etc/subuid and /etc/subgid.
    public static func forCaller() throws -> KeepIDPlan {
        let user = Environment.userName ?? String(getuid())
        func ranges(_ file: String) -> [SubordinateRange] {
            guard let text = try? Files.readText(file) else { return [] }
            return SubordinateRange.parse(text, user: user, id: getuid())
        }
        return try KeepIDPlan(uid: getuid(), gid: getgid(), subuids: ranges("/etc/subuid"), subgids: ranges("/etc/subgid"))
    }

    /// The namespace's mappings and fuse-overlayfs's mapping text for one kind.
    static func plan(own: UInt32, ranges: [SubordinateRange], kind: String) throws
        -> ([RuntimeSpec.IDMapping], String) {
        let file = kind == "uid" ? "/etc/subuid" : "/etc/subgid"
        guard !ranges.isEmpty else {
            let user = Environment.userName ?? String(own)
            throw EngineError("--userns=keep-id needs subordinate \(kind)s: no \(file) entry for \(user) "
                + "(an admin adds one with `usermod --add-sub\(kind)s 100000-165535 \(user)`)")
        }
        var maps: [RuntimeSpec.IDMapping] = []
        var index: UInt64 = 0   // subordinate ids seen so far
        let u = UInt64(own)
        for r in ranges {
            let a = index, end = index + UInt64(r.count)
            if a < u {
                let below = min(end, u) - a
                maps.append(RuntimeSpec.IDMapping(containerID: UInt32(a), hostID: r.start, size: UInt32(below)))
            }
            if end > u {
                let from = max(a, u)
                guard from + 1 + (end - from) <= UInt64(UInt32.max) else { break }
                maps.append(RuntimeSpec.IDMapping(containerID: UInt32(from + 1), hostID: r.start + UInt32(from - a),
                                                  size: UInt32(end - from)))
            }
            index = end
        }
        maps.append(RuntimeSpec.IDMapping(containerID: own, hostID: own, size: 1))
        maps.sort { $0.containerID < $1.containerID }
        let total = index
        var fuse = ["\(own):0:1"]
        if min(total, u) > 0 { fuse.append("0:1:\(min(total, u))") }
        if total > u { fuse.append("\(u + 1):\(u + 1):\(total - u)") }
        return (maps, fuse.joined(separator: ":"))
    }
}

extension KeepIDPlan {
    /// The plan `--userns` asks for: nil for the default (or empty, "host").
    public static func forOptions(_ o: RunOptions) throws -> KeepIDPlan? {
        switch o.userns ?? "" {
        case "", "host": return nil
        case "keep-id": return try forCaller()
        default: throw EngineError("unknown --userns \"\(o.userns ?? "")\": use keep-id (or leave it out)")
        }
    }
}

extension StorageDriver {
    /// keep-id needs fuse-overlayfs's id mapping: the kernel's overlay and a
    /// copy would show the image's files as the caller's unless chowned.
    public func forKeepID(program: String = "/usr/bin/fuse-overlayfs") throws -> StorageDriver {
        guard name != "fuse-overlayfs" else { return self }
        guard Files.exists(program) else {
            throw EngineError("--userns=keep-id needs fuse-overlayfs (\(program) not found): install the fuse-overlayfs package")
        }
        if reason.hasPrefix("chosen by") {
            printWarning("--userns=keep-id: the \(name) storage driver cannot map ids without a chown pass: using fuse-overlayfs")
        }
        return StorageDriver(name: "fuse-overlayfs", reason: "needed by --userns=keep-id (uid/gid mapping without chown)")
    }
}

func printWarning(_ line: String) {
    let text = "Warning: " + line + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
}
