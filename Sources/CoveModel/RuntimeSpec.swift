/// The parts of an OCI runtime config (runtime-spec config.md,
/// config-linux.md) that cove-unshare acts on. The whole document stays
/// available as `raw` for the parts read elsewhere.
public struct RuntimeSpec: Sendable {
    public var ociVersion: String
    public var process: Process?
    public var root: Root?
    public var hostname: String?
    public var domainname: String?
    public var mounts: [Mount]
    public var annotations: [(String, String)]
    public var linux: Linux?
    public var hooks: Hooks
    public var raw: JSON

    /// config.md "POSIX-platform Hooks".
    public struct Hook: Sendable, Equatable {
        public var path: String
        public var args: [String]
        public var env: [String]
        public var timeout: Int64?
    }
    public struct Hooks: Sendable, Equatable {
        public var prestart: [Hook] = []
        public var createRuntime: [Hook] = []
        public var createContainer: [Hook] = []
        public var startContainer: [Hook] = []
        public var poststart: [Hook] = []
        public var poststop: [Hook] = []
        public init() {}
    }

    public struct Process: Sendable {
        public var terminal: Bool
        public var consoleSize: (height: UInt32, width: UInt32)?
        public var user: User
        public var args: [String]
        public var env: [String]
        public var cwd: String
        public var rlimits: [Rlimit]
        public var noNewPrivileges: Bool
        public var oomScoreAdj: Int64?
        public var capabilities: Capabilities?
    }
    /// The five capability sets, by name ("CAP_CHOWN").
    public struct Capabilities: Sendable, Equatable {
        public var bounding: [String]
        public var effective: [String]
        public var permitted: [String]
        public var inheritable: [String]
        public var ambient: [String]
        public init(bounding: [String], effective: [String], permitted: [String], inheritable: [String],
                    ambient: [String]) {
            self.bounding = bounding; self.effective = effective; self.permitted = permitted
            self.inheritable = inheritable; self.ambient = ambient
        }
    }
    public struct User: Sendable {
        public var uid: UInt32
        public var gid: UInt32
        public var umask: UInt32?
        public var additionalGids: [UInt32]
    }
    public struct Rlimit: Sendable, Equatable {
        public var type: String
        public var soft: UInt64
        public var hard: UInt64
    }
    public struct Root: Sendable {
        public var path: String
        public var readonly: Bool
    }
    public struct Mount: Sendable, Equatable {
        public var destination: String
        public var type: String?
        public var source: String?
        public var options: [String]
        public init(destination: String, type: String?, source: String?, options: [String]) {
            self.destination = destination; self.type = type; self.source = source; self.options = options
        }
    }
    public struct IDMapping: Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID; self.hostID = hostID; self.size = size
        }
    }
    public struct Namespace: Sendable, Equatable {
        public var type: NamespaceKind
        public var path: String?
    }
    public struct Device: Sendable, Equatable {
        public var type: String
        public var path: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
    }
    public struct Linux: Sendable {
        public var namespaces: [Namespace]
        public var uidMappings: [IDMapping]
        public var gidMappings: [IDMapping]
        public var devices: [Device]
        public var cgroupsPath: String?
        public var resources: JSON?
        public var rootfsPropagation: String?
        public var maskedPaths: [String]
        public var readonlyPaths: [String]
        public var sysctl: [(String, String)]
        public var seccomp: SeccompProfile?

        public func namespace(_ kind: NamespaceKind) -> Namespace? { namespaces.first { $0.type == kind } }

        /// A Linux section with nothing in it, for configs that omit one.
        public static let empty = Linux(namespaces: [], uidMappings: [], gidMappings: [], devices: [],
                                        cgroupsPath: nil, resources: nil, rootfsPropagation: nil,
                                        maskedPaths: [], readonlyPaths: [], sysctl: [], seccomp: nil)
    }
}

public enum NamespaceKind: String, Sendable, CaseIterable {
    case pid, network, mount, ipc, uts, user, cgroup, time
}

extension RuntimeSpec {
    /// Config versions this runtime accepts: any 1.x.
    public static func supports(ociVersion v: String) -> Bool {
        v == "1" || v.hasPrefix("1.")
    }

    public init(json: JSON) throws {
        let f = try Fields(json, "")
        raw = json
        guard let version = try f.string("ociVersion") else { throw SpecError("ociVersion", "missing") }
        guard RuntimeSpec.supports(ociVersion: version) else {
            throw SpecError("ociVersion", "\(version) is not supported (1.x is)")
        }
        ociVersion = version
        hostname = try f.string("hostname")
        domainname = try f.string("domainname")
        annotations = try f.stringMap("annotations")
        if let r = try f.object("root") {
            guard let p = try r.string("path"), !p.isEmpty else { throw SpecError("root.path", "missing") }
            root = Root(path: p, readonly: try r.bool("readonly") ?? false)
        }
        mounts = try (f.objects("mounts") ?? []).map { m in
            guard let d = try m.string("destination"), !d.isEmpty else {
                throw SpecError(m.name("destination"), "missing")
            }
            return Mount(destination: d, type: try m.string("type"), source: try m.string("source"),
                         options: try m.strings("options") ?? [])
        }
        if let p = try f.object("process") { process = try Process(p) }
        if let l = try f.object("linux") { linux = try Linux(l) }
        hooks = Hooks()
        if let h = try f.object("hooks") {
            func list(_ k: String) throws -> [Hook] {
                try (h.objects(k) ?? []).map { e in
                    guard let p = try e.string("path"), p.hasPrefix("/") else {
                        throw SpecError(e.name("path"), "missing or not absolute")
                    }
                    let timeout = try e.int64("timeout")
                    if let t = timeout, t <= 0 { throw SpecError(e.name("timeout"), "must be greater than zero") }
                    return Hook(path: p, args: try e.strings("args") ?? [], env: try e.strings("env") ?? [], timeout: timeout)
                }
            }
            hooks.prestart = try list("prestart")
            hooks.createRuntime = try list("createRuntime")
            hooks.createContainer = try list("createContainer")
            hooks.startContainer = try list("startContainer")
            hooks.poststart = try list("poststart")
            hooks.poststop = try list("poststop")
        }
    }

    public init(text: String) throws {
        let json: JSON
        do { json = try JSON.parse(text) } catch let e as JSONError {
            throw SpecError("(document)", e.description)
        }
        try self.init(json: json)
    }
}

extension RuntimeSpec.Process {
    /// A process object on its own, as `exec --process FILE` takes it.
    public init(json: JSON, field: String = "process") throws { try self.init(Fields(json, field)) }

    init(_ f: Fields) throws {
        terminal = try f.bool("terminal") ?? false
        if let c = try f.object("consoleSize") {
            consoleSize = (try c.uint32("height") ?? 0, try c.uint32("width") ?? 0)
        }
        guard let u = try f.object("user") else { throw SpecError("process.user", "missing") }
        user = RuntimeSpec.User(
            uid: try u.uint32("uid") ?? 0, gid: try u.uint32("gid") ?? 0, umask: try u.uint32("umask"),
            additionalGids: try (u.json["additionalGids"]?.arrayValue ?? []).enumerated().map { i, g in
                guard let n = g.int64Value, n >= 0, n <= Int64(UInt32.max) else {
                    throw SpecError("process.user.additionalGids[\(i)]", "expected a group id")
                }
                return UInt32(n)
            })
        args = try f.strings("args") ?? []
        env = try f.strings("env") ?? []
        guard let cwd = try f.string("cwd") else { throw SpecError("process.cwd", "missing") }
        guard cwd.hasPrefix("/") else { throw SpecError("process.cwd", "\(cwd) is not an absolute path") }
        self.cwd = cwd
        rlimits = try (f.objects("rlimits") ?? []).map { r in
            guard let t = try r.string("type") else { throw SpecError(r.name("type"), "missing") }
            return RuntimeSpec.Rlimit(type: t, soft: try r.uint64("soft") ?? 0, hard: try r.uint64("hard") ?? 0)
        }
        noNewPrivileges = try f.bool("noNewPrivileges") ?? false
        oomScoreAdj = try f.int64("oomScoreAdj")
        if let c = try f.object("capabilities") {
            capabilities = RuntimeSpec.Capabilities(
                bounding: try c.strings("bounding") ?? [], effective: try c.strings("effective") ?? [],
                permitted: try c.strings("permitted") ?? [], inheritable: try c.strings("inheritable") ?? [],
                ambient: try c.strings("ambient") ?? [])
        }
    }
}

extension RuntimeSpec.Linux {
    init(_ f: Fields) throws {
        var seen: Set<String> = []
        namespaces = try (f.objects("namespaces") ?? []).map { n in
            guard let t = try n.string("type") else { throw SpecError(n.name("type"), "missing") }
            guard let kind = NamespaceKind(rawValue: t) else {
                throw SpecError(n.name("type"), "unknown namespace type \(t)")
            }
            guard seen.insert(t).inserted else { throw SpecError(n.name("type"), "\(t) is listed twice") }
            let p = try n.string("path")
            return RuntimeSpec.Namespace(type: kind, path: (p?.isEmpty ?? true) ? nil : p)
        }
        func maps(_ k: String) throws -> [RuntimeSpec.IDMapping] {
            try (f.objects(k) ?? []).map { m in
                RuntimeSpec.IDMapping(containerID: try m.uint32("containerID") ?? 0,
                                      hostID: try m.uint32("hostID") ?? 0, size: try m.uint32("size") ?? 0)
            }
        }
        uidMappings = try maps("uidMappings")
        gidMappings = try maps("gidMappings")
        devices = try (f.objects("devices") ?? []).map { d in
            guard let p = try d.string("path") else { throw SpecError(d.name("path"), "missing") }
            return RuntimeSpec.Device(type: try d.string("type") ?? "c", path: p, major: try d.int64("major"),
                                      minor: try d.int64("minor"), fileMode: try d.uint32("fileMode"))
        }
        cgroupsPath = try f.string("cgroupsPath")
        resources = f.json["resources"].flatMap { $0.isNull ? nil : $0 }
        rootfsPropagation = try f.string("rootfsPropagation")
        maskedPaths = try f.strings("maskedPaths") ?? []
        readonlyPaths = try f.strings("readonlyPaths") ?? []
        sysctl = try f.stringMap("sysctl")
        if let s = f.json["seccomp"], !s.isNull { seccomp = try SeccompProfile(json: s) }
    }
}
