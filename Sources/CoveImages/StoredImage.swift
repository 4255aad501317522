#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// An image config's `config` part: what a container of it runs by default.
public struct ImageConfig: Sendable, Equatable {
    public var env: [String] = []
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var workingDir = ""
    public var user = ""
    public var labels: [(String, String)] = []
    public var stopSignal: String?
    public var exposedPorts: [String] = []
    public var volumes: [String] = []
    public var architecture = ""
    public var os = ""
    public var created = ""

    public init() {}

    public static func == (a: ImageConfig, b: ImageConfig) -> Bool {
        a.env == b.env && a.entrypoint == b.entrypoint && a.cmd == b.cmd && a.workingDir == b.workingDir
            && a.user == b.user && a.labels.map(\.0) == b.labels.map(\.0) && a.labels.map(\.1) == b.labels.map(\.1)
            && a.stopSignal == b.stopSignal && a.exposedPorts == b.exposedPorts && a.volumes == b.volumes
    }
}

/// A stored image opened for use: its layers (bottom first) with their
/// diff_ids, and its config.
public struct StoredImage: Sendable {
    public struct Layer: Sendable, Equatable {
        public var digest: Digest
        public var mediaType: String
        public var size: Int64
        public var diffID: Digest
    }

    public let record: ImageRecord
    public let layers: [Layer]
    public let config: ImageConfig
    /// The config document as stored (for `inspect`).
    public let configJSON: JSON

    public init(store: ContentStore, record: ImageRecord) throws {
        self.record = record
        let what = "image \(record.name.isEmpty ? record.config.shortID : record.name)"
        func parse(_ d: Digest) throws -> JSON {
            do { return try JSON.parse(try store.read(d, limit: ImageLimits.maxManifestSize)) } catch let e as JSONError {
                throw ImageError("\(what): blob \(d) is not valid JSON (\(e))")
            } catch let e as SyscallError where e.errno == ENOENT {
                throw ImageError("\(what): blob \(d) is missing from the store; pull or load the image again")
            }
        }
        let manifest = try parse(record.manifest)
        configJSON = try parse(record.config)
        let diffIDs = try (configJSON["rootfs"]?["diff_ids"]?.arrayValue ?? []).map { d -> Digest in
            guard let s = d.stringValue else { throw ImageError("\(what): a diff_id is not a string") }
            return try Digest(parsing: s)
        }
        let items = manifest["layers"]?.arrayValue ?? []
        guard items.count == diffIDs.count else {
            throw ImageError("\(what): the manifest lists \(items.count) layers and the config \(diffIDs.count) diff_ids")
        }
        layers = try zip(items, diffIDs).map { item, diffID in
            guard let d = item["digest"]?.stringValue else { throw ImageError("\(what): a layer has no digest") }
            return Layer(digest: try Digest(parsing: d), mediaType: item["mediaType"]?.stringValue ?? MediaTypes.ociLayer,
                         size: item["size"]?.int64Value ?? 0, diffID: diffID)
        }
        config = ImageConfig(json: configJSON)
    }
}

extension ImageConfig {
    public init(json: JSON) {
        let c = json["config"] ?? .object([])
        func strings(_ j: JSON?) -> [String]? { j?.arrayValue?.compactMap(\.stringValue) }
        env = strings(c["Env"]) ?? []
        entrypoint = strings(c["Entrypoint"])
        cmd = strings(c["Cmd"])
        workingDir = c["WorkingDir"]?.stringValue ?? ""
        user = c["User"]?.stringValue ?? ""
        labels = (c["Labels"]?.objectValue ?? []).compactMap { k, v in v.stringValue.map { (k, $0) } }
        stopSignal = c["StopSignal"]?.stringValue
        exposedPorts = (c["ExposedPorts"]?.objectValue ?? []).map(\.0)
        volumes = (c["Volumes"]?.objectValue ?? []).map(\.0)
        architecture = json["architecture"]?.stringValue ?? ""
        os = json["os"]?.stringValue ?? ""
        created = json["created"]?.stringValue ?? ""
    }
}

extension ImageIndex {
    /// One image, as `lookup` finds it (name, short name, ID or ID prefix).
    public func find(_ text: String) throws -> ImageRecord? { try lookup(text).first }
}
