import CoveLinux
import CoveModel

/// One named image in the store's `images.json`.
public struct ImageRecord: Equatable, Sendable {
    public var name: String
    public var manifest: Digest
    public var config: Digest
    /// The image config's `created`, RFC 3339, or empty when it has none.
    public var created: String
    /// Config plus layers, as stored (compressed layers count compressed).
    public var size: Int64

    public init(name: String, manifest: Digest, config: Digest, created: String, size: Int64) {
        self.name = name; self.manifest = manifest; self.config = config; self.created = created; self.size = size
    }
}

/// `images.json`: name → manifest digest, config digest, created time.
/// Read under the store lock shared, rewritten whole (atomically) under
/// it exclusive.
public struct ImageIndex: Sendable {
    public let store: ContentStore
    var path: String { store.root + "/images.json" }

    public init(store: ContentStore) { self.store = store }

    public func list() throws -> [ImageRecord] {
        try store.withLock(exclusive: false) { try readUnlocked() }
    }

    /// Adds or replaces records by name (an unnamed one by its manifest).
    public func put(_ records: [ImageRecord]) throws {
        try store.withLock(exclusive: true) {
            var all = try readUnlocked()
            for r in records {
                if let i = all.firstIndex(where: { $0.name == r.name && (!r.name.isEmpty || $0.manifest == r.manifest) }) { all[i] = r } else { all.append(r) }
            }
            try writeUnlocked(all)
        }
    }

    func writeUnlocked(_ all: [ImageRecord]) throws {
        let json = JSON.object([("images", .array(all.map { r in
            .object([("name", .string(r.name)), ("manifest", .string(r.manifest.description)),
                     ("config", .string(r.config.description)), ("created", .string(r.created)),
                     ("size", .int(r.size))])
        }))])
        try Files.writeAtomically(path, json.serializedBytes(pretty: true), mode: 0o600)
    }

    func readUnlocked() throws -> [ImageRecord] {
        guard Files.exists(path) else { return [] }
        let json: JSON
        do { json = try JSON.parse(try Files.read(path, limit: 64 << 20)) } catch let e as JSONError {
            throw ImageError("\(path) is damaged (\(e)): move it aside and load the images again")
        }
        return try (json["images"]?.arrayValue ?? []).map { item in
            guard let name = item["name"]?.stringValue, let m = item["manifest"]?.stringValue,
                  let c = item["config"]?.stringValue else { throw ImageError("\(path): an entry lacks name, manifest or config") }
            return ImageRecord(name: name, manifest: try Digest(parsing: m), config: try Digest(parsing: c),
                               created: item["created"]?.stringValue ?? "", size: item["size"]?.int64Value ?? 0)
        }
    }
}
