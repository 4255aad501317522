#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Containers' records under `<root>/containers/<id>/`. Creating, renaming
/// and removing hold `containers/lock` exclusive, so names stay unique
/// when two cove commands run at once; a record is rewritten atomically.
public struct ContainerStore: Sendable {
    public let paths: CovePaths

    public init(paths: CovePaths) throws {
        self.paths = paths
        try Files.makeDirectories(paths.containers, mode: 0o700)
    }

    var lockPath: String { paths.containers + "/lock" }

    public func withLock<T>(_ body: () throws -> T) throws -> T {
        let fd = try FileLock.acquire(lockPath)
        defer { close(fd) }
        return try body()
    }

    func recordPath(_ id: String) -> String { paths.container(id) + "/container.json" }

    /// Every record; unreadable ones are skipped (a half-made directory of
    /// a create that crashed has none).
    public func list() -> [ContainerRecord] {
        let ids = (try? Files.listDirectory(paths.containers)) ?? []
        return ids.compactMap { id in
            guard id.count == 64, let bytes = try? Files.read(recordPath(id), limit: 4 << 20),
                  let json = try? JSON.parse(bytes) else { return nil }
            return try? ContainerRecord(json: json)
        }.sorted { $0.created > $1.created }
    }

    /// By name, full ID or an unambiguous ID prefix, as docker resolves them.
    public func find(_ key: String) throws -> ContainerRecord {
        let all = list()
        if let r = all.first(where: { $0.name == key || $0.id == key }) { return r }
        let matches = all.filter { $0.id.hasPrefix(key) }
        if matches.count > 1 { throw EngineError("container ID \(key) is ambiguous: give more digits") }
        guard let r = matches.first else { throw NoSuchContainer(name: key) }
        return r
    }

    /// Reserves a new container: a fresh ID, the name checked and taken.
    public func create(id preset: String? = nil, _ make: (String) -> ContainerRecord) throws -> ContainerRecord {
        try withLock {
            let id = preset ?? ContainerStore.newID()
            if preset != nil && Files.lstatMode(paths.container(id)) != nil {
                throw EngineError("container ID \(id) exists already")
            }
            var record = make(id)
            let taken = Set(list().map(\.name))
            if record.name.isEmpty {
                repeat { record.name = Names.random() } while taken.contains(record.name)
            } else if taken.contains(record.name) {
                throw EngineError("the container name \"\(record.name)\" is already in use: remove that container or choose another name")
            }
            try Names.validate(record.name)
            try Files.makeDirectories(paths.container(id), mode: 0o700)
            try save(record)
            return record
        }
    }

    public func save(_ r: ContainerRecord) throws {
        try Files.writeAtomically(recordPath(r.id), r.json.serializedBytes(), mode: 0o600, durable: false)
    }

    /// Re-reads a record, changes it and writes it back, under the lock so
    /// that two commands changing one container (a run ending, a rename)
    /// do not undo each other.
    @discardableResult
    public func update(_ id: String, _ change: (inout ContainerRecord) -> Void) throws -> ContainerRecord {
        try withLock { try updateUnlocked(id, change) }
    }

    @discardableResult
    func updateUnlocked(_ id: String, _ change: (inout ContainerRecord) -> Void) throws -> ContainerRecord {
        var r = try ContainerRecord(json: JSON.parse(try Files.read(recordPath(id))))
        change(&r)
        try save(r)
        return r
    }

    public func rename(_ id: String, to name: String) throws {
        try withLock {
            try Names.validate(name)
            if list().contains(where: { $0.name == name && $0.id != id }) {
                throw EngineError("the container name \"\(name)\" is already in use")
            }
            try updateUnlocked(id) { $0.name = name }
        }
    }

    /// The runtime's view: running when its init lives, else exited with
    /// the code the monitor (or the front) recorded.
    public func condition(_ r: ContainerRecord) -> ContainerCondition {
        let dir = paths.runtimeRoot + "/" + r.id
        if let bytes = try? Files.read(dir + "/state.json"), let json = try? JSON.parse(bytes),
           let state = try? ContainerState(stored: json) {
            if state.pid > 0, Processes.isAlive(state.pid, startTime: state.pidStartTime) {
                return .running(pid: state.pid)
            }
            if let b = try? Files.read(dir + "/exit.json"), let e = try? JSON.parse(b), let code = e["exitCode"]?.int64Value {
                return .exited(code: Int32(truncatingIfNeeded: code))
            }
            return .exited(code: r.exitCode)
        }
        // No runtime state: never started, or a reboot wiped the runroot.
        return r.startedAt.isEmpty ? .created : .exited(code: r.exitCode)
    }

    /// When the monitor recorded the end: `exitedAt` from exit.json.
    public func exitTime(_ r: ContainerRecord) -> String? {
        guard let b = try? Files.read(paths.runtimeRoot + "/" + r.id + "/exit.json"), let e = try? JSON.parse(b) else { return nil }
        return e["exitedAt"]?.stringValue
    }

    public static func newID() -> String {
        // Four random words (one getrandom each), as 64 hex digits.
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for _ in 0..<4 {
            let w: UInt64 = g.next()
            for shift in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((w >> UInt64(shift)) & 0xf)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Names as docker gives them: adjective_surname; and its rule for names.
enum Names {
    static let adjectives = ["brave", "calm", "clever", "eager", "gentle", "happy", "jolly", "keen", "lucid", "merry",
                             "nimble", "quiet", "sharp", "swift", "tender", "vivid", "witty", "zealous", "bold", "cool"]
    static let nouns = ["archimedes", "bell", "curie", "darwin", "euler", "fermi", "gauss", "hopper", "kepler",
                        "lovelace", "meitner", "newton", "noether", "pascal", "ritchie", "shannon", "tesla",
                        "turing", "volta", "wozniak"]

    static func random() -> String {
        "\(adjectives.randomElement() ?? "calm")_\(nouns.randomElement() ?? "turing")"
    }

    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, as docker requires.
    static func validate(_ name: String) throws {
        let ok = name.utf8.first.map { c in isAlnum(c) } == true
            && name.utf8.allSatisfy { c in isAlnum(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-") }
            && name.utf8.count <= 253
        guard ok else { throw EngineError("invalid container name \"\(name)\": use [a-zA-Z0-9][a-zA-Z0-9_.-]*") }
    }

    static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }
}

/// A name or ID that matches no container: docker's and podman's `rm`,
/// `stop`, `kill`… exit 1 for it, not 125.
public struct NoSuchContainer: Error, CustomStringConvertible, Sendable {
    public let name: String
    public var description: String { "no such container: \(name)" }
}
