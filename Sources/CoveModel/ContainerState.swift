/// Lifecycle states of runtime-spec runtime.md.
public enum ContainerStatus: String, Sendable {
    case creating, created, running, stopped
}

/// What cove-unshare keeps in `<root>/<id>/state.json`: the runtime-spec
/// state plus what it needs to tell a live init from a reused pid.
public struct ContainerState: Sendable, Equatable {
    public var ociVersion: String
    public var id: String
    public var status: ContainerStatus
    public var pid: Int32
    public var bundle: String
    public var rootfs: String
    public var annotations: [String: String]
    public var annotationOrder: [String]
    /// Field 22 of /proc/PID/stat for `pid`, in clock ticks since boot.
    public var pidStartTime: UInt64
    public var created: String
    public var owner: String

    public init(ociVersion: String, id: String, status: ContainerStatus, pid: Int32, bundle: String,
                rootfs: String, annotations: [(String, String)], pidStartTime: UInt64, created: String,
                owner: String) {
        self.ociVersion = ociVersion; self.id = id; self.status = status; self.pid = pid
        self.bundle = bundle; self.rootfs = rootfs
        self.annotations = Dictionary(annotations, uniquingKeysWith: { _, b in b })
        self.annotationOrder = annotations.map(\.0)
        self.pidStartTime = pidStartTime; self.created = created; self.owner = owner
    }

    private var annotationsJSON: JSON {
        .object(annotationOrder.compactMap { k in annotations[k].map { (k, .string($0)) } })
    }

    /// The document `cove-unshare state` prints: the spec's fields first.
    public var publicJSON: JSON {
        var pairs: [(String, JSON)] = [
            ("ociVersion", .string(ociVersion)), ("id", .string(id)), ("status", .string(status.rawValue)),
        ]
        if status != .stopped { pairs.append(("pid", .int(pid))) } else { pairs.append(("pid", .int(0))) }
        pairs += [("bundle", .string(bundle)), ("rootfs", .string(rootfs)),
                  ("created", .string(created)), ("owner", .string(owner))]
        if !annotationOrder.isEmpty { pairs.append(("annotations", annotationsJSON)) }
        return .object(pairs)
    }

    /// The stored document: everything, so it can be read back.
    public var storedJSON: JSON {
        .object([
            ("ociVersion", .string(ociVersion)), ("id", .string(id)), ("status", .string(status.rawValue)),
            ("pid", .int(pid)), ("bundle", .string(bundle)), ("rootfs", .string(rootfs)),
            ("annotations", annotationsJSON), ("pidStartTime", .int(pidStartTime)),
            ("created", .string(created)), ("owner", .string(owner)),
        ])
    }

    public init(stored json: JSON) throws {
        let f = try Fields(json, "state")
        guard let id = try f.string("id"), let bundle = try f.string("bundle"),
              let st = try f.string("status"), let status = ContainerStatus(rawValue: st) else {
            throw SpecError("state", "incomplete state file")
        }
        self.init(ociVersion: try f.string("ociVersion") ?? "1.2.0", id: id, status: status,
                  pid: Int32(truncatingIfNeeded: try f.int64("pid") ?? 0), bundle: bundle,
                  rootfs: try f.string("rootfs") ?? "", annotations: try f.stringMap("annotations"),
                  pidStartTime: try f.uint64("pidStartTime") ?? 0, created: try f.string("created") ?? "",
                  owner: try f.string("owner") ?? "")
    }
}
