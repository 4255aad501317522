#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Volumes, as docker's `local` driver: `<root>/volumes/NAME/_data`
/// holds the data, `volume.json` beside it the name and creation time.
/// An anonymous volume (`-v /path`, `--mount type=volume` without a
/// source, the image's VOLUME) has a random 64-hex name and remembers the
/// container it was made for: `rm -v` and `run --rm` remove it with that
/// container, never a named one.
/// Creating and removing hold `volumes/lock`; a volume is made under a
/// temporary name and renamed into place, and removed by renaming it away
/// first, so a crash never leaves a half-made volume under its name.
public struct VolumeStore: Sendable {
    public let paths: CovePaths
    public let helpers: HelperLocator

    public struct Volume: Sendable, Equatable {
        public var name: String
        public var created: String
        public var mountpoint: String
        public var anonymous = false
        /// For an anonymous volume: the ID of the container it was made for.
        public var container = ""
    }

    /// docker's label on anonymous volumes (`volume inspect` shows it).
    public static let anonymousLabel = "com.docker.volume.anonymous"

    public init(paths: CovePaths, helpers: HelperLocator = .forThisProgram()) throws {
        self.paths = paths
        self.helpers = helpers
        try Files.makeDirectories(paths.volumes, mode: 0o700)
    }

    var lockPath: String { paths.volumes + "/lock" }
    func directory(_ name: String) -> String { paths.volumes + "/" + name }
    public func dataPath(_ name: String) -> String { directory(name) + "/_data" }

    public func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = try FileLock.acquire(lockPath)
        defer { close(fd) }
        return try body()
    }

    /// docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
    public static func validate(_ name: String) throws {
        let ok = name.utf8.count <= 255 && name.unicodeScalars.enumerated().allSatisfy { i, c in
            let alnum = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9")
            return alnum || (i > 0 && (c == "_" || c == "." || c == "-"))
        } && !name.isEmpty
        guard ok else {
            throw EngineError("invalid volume name \"\(name)\": use letters, digits and _ . - (starting with a letter or digit)")
        }
    }

    public func exists(_ name: String) -> Bool { Files.isDirectory(dataPath(name)) }

    public func get(_ name: String) throws -> Volume {
        try Self.validate(name)
        guard exists(name) else { throw EngineError("no such volume: \(name)") }
        let meta = (try? Files.read(directory(name) + "/volume.json")).flatMap { try? JSON.parse($0) }
        return Volume(name: name, created: meta?["CreatedAt"]?.stringValue ?? "", mountpoint: dataPath(name),
                      anonymous: meta?["Anonymous"]?.boolValue ?? false, container: meta?["Container"]?.stringValue ?? "")
    }

    public func list() -> [Volume] {
        let names = ((try? Files.listDirectory(paths.volumes)) ?? []).filter { !$0.hasPrefix(".") && $0 != "lock" }.sorted()
        return names.compactMap { try? get($0) }
    }

    /// Makes the volume unless it exists (docker's `volume create` of an
    /// existing name is not an error). Returns it and whether it is new.
    /// Without a name: a new anonymous volume, made for `container` when
    /// one is given (`volume create` without a name makes a plain one, as
    /// docker does).
    @discardableResult
    public func create(_ name: String?, anonymousFor container: String? = nil) throws -> (Volume, Bool) {
        let n = name ?? Self.anonymousName()
        let anonymous = name == nil && container != nil
        try Self.validate(n)
        return try withLock {
            if exists(n) { return (try get(n), false) }
            let temp = paths.volumes + "/.tmp-\(getpid())-\(n)"
            if Files.lstatMode(temp) != nil { try Files.removeTree(temp) }
            try Files.makeDirectories(temp + "/_data", mode: 0o755)
            let created = Clock.rfc3339Now()
            var fields: [(String, JSON)] = [("Name", .string(n)), ("CreatedAt", .string(created))]
            if anonymous, let container { fields += [("Anonymous", .bool(true)), ("Container", .string(container))] }
            let doc = JSON.object(fields)
            try Files.writeAtomically(temp + "/volume.json", doc.serializedBytes(), mode: 0o600, durable: false)
            if rename(temp, directory(n)) != 0 {
                let e = SyscallError("rename \(temp) to \(directory(n))")
                try? Files.removeTree(temp)
                throw e
            }
            return (Volume(name: n, created: created, mountpoint: dataPath(n), anonymous: anonymous,
                           container: anonymous ? container ?? "" : ""), true)
        }
    }

    static func anonymousName() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Containers (by name) whose config.json mounts this volume; for an
    /// anonymous one also the container it was made for while that exists
    /// (its config.json is written after its volumes are made).
    public func users(_ name: String) -> [String] {
        let data = dataPath(name)
        guard let store = try? ContainerStore(paths: paths) else { return [] }
        let owner = (try? get(name)).flatMap { $0.anonymous ? $0.container : nil } ?? ""
        return store.list().filter { r in
            if r.id == owner { return true }
            guard let b = try? Files.read(paths.container(r.id) + "/config.json"), let j = try? JSON.parse(b) else { return false }
            return (j["mounts"]?.arrayValue ?? []).contains { $0["source"]?.stringValue == data }
        }.map(\.name)
    }

    /// The anonymous volumes made for a container.
    public func anonymousVolumes(of container: String) -> [String] {
        list().filter { $0.anonymous && $0.container == container }.map(\.name)
    }

    /// Removes the anonymous volumes made for a container that is gone,
    /// as docker's `rm -v`: one another container still mounts is kept.
    /// Returns the names of those that could not be removed, with why.
    @discardableResult
    public func removeAnonymous(of container: String) -> [(String, String)] {
        var failed: [(String, String)] = []
        for name in anonymousVolumes(of: container) where users(name).isEmpty {
            do { try remove(name, force: false) } catch { failed.append((name, "\(error)")) }
        }
        return failed
    }

    /// Removes the volume; one in use by a container only with `force`.
    public func remove(_ name: String, force: Bool) throws {
        try Self.validate(name)
        try withLock {
            guard exists(name) else { throw EngineError("no such volume: \(name)") }
            let using = users(name)
            if !using.isEmpty && !force {
                throw EngineError("volume \(name) is in use by container \(using.joined(separator: ", ")): "
                    + "remove the container first, or use volume rm -f")
            }
            let trash = paths.volumes + "/.trash-\(getpid())-\(name)"
            if rename(directory(name), trash) != 0 { throw SyscallError("rename \(directory(name)) to \(trash)") }
            try helpers.removeStoreTree(trash)
        }
    }

    /// Removes every volume no container uses; returns their names.
    public func prune() throws -> [String] {
        var removed: [String] = []
        for v in list() where users(v.name).isEmpty {
            do { try remove(v.name, force: false); removed.append(v.name) } catch {}
        }
        return removed
    }


    /// A new, empty volume mounted at `path` gets the image's content there,
    /// as docker does; copied by cove-fs in the user namespace so owners
    /// are kept. Nothing happens when the image has nothing at `path`.
    public func fill(_ name: String, from layers: [String], path: String) throws {
        guard let fs = helpers.find("cove-fs") else { throw EngineError("cove-fs not found: reinstall cove") }
        let data = dataPath(name)
        try withLock {
            guard ((try? Files.listDirectory(data)) ?? ["x"]).isEmpty else { return }
            let temp = directory(name) + "/.fill"
            if Files.lstatMode(temp) != nil { try helpers.removeStoreTree(temp) }
            var args = ["copy"]
            for l in layers { args += ["--layer", l] }
            args += ["--into", temp, "--path", path]
            let (status, _, err) = try Spawn.capture(fs, args)
            guard status == .exited(0) else {
                try? helpers.removeStoreTree(temp)
                throw EngineError("cannot fill volume \(name) from the image's \(path): "
                    + LayerCache.stripPrefixes(String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "\(status)"))
            }
            // The copy replaces the empty directory in one rename.
            if rmdir(data) != 0 { let e = SyscallError("remove empty \(data)"); try? helpers.removeStoreTree(temp); throw e }
            if rename(temp, data) != 0 { throw SyscallError("rename \(temp) to \(data)") }
        }
    }
}
