#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// What cove remembers of a container, in `<root>/containers/<id>/container.json`.
/// The live part (is it running, with which pid) comes from the runtime's
/// state under the runroot, which a reboot wipes; what lasts is here.
public struct ContainerRecord: Sendable {
    public var id: String
    public var name: String
    public var image: String
    public var imageID: String
    public var created: String
    /// The process as the container runs it (entrypoint + cmd).
    public var args: [String]
    public var labels: [(String, String)] = []
    public var ports: [String] = []
    public var network = "none"
    public var autoRemove = false
    public var tty = false
    public var interactive = false
    public var stopSignal = "TERM"
    public var stopTimeout = 10
    public var storageDriver = ""
    public var startedAt = ""
    public var finishedAt = ""
    public var exitCode: Int32?
    public var restarts = 0
    public var logMaxSize: Int64 = 64 << 20
    /// The JSON of the options the container was created with (for inspect).
    public var hostConfig: JSON = .object([])

    public init(id: String, name: String, image: String, imageID: String, created: String, args: [String]) {
        self.id = id; self.name = name; self.image = image; self.imageID = imageID; self.created = created; self.args = args
    }

    public var json: JSON {
        var o: [(String, JSON)] = [
            ("id", .string(id)), ("name", .string(name)), ("image", .string(image)), ("imageID", .string(imageID)),
            ("created", .string(created)), ("args", .array(args.map { .string($0) })),
            ("labels", .object(labels.map { ($0.0, .string($0.1)) })), ("ports", .array(ports.map { .string($0) })),
            ("network", .string(network)), ("autoRemove", .bool(autoRemove)), ("tty", .bool(tty)),
            ("interactive", .bool(interactive)), ("stopSignal", .string(stopSignal)), ("stopTimeout", .int(stopTimeout)),
            ("storageDriver", .string(storageDriver)), ("startedAt", .string(startedAt)),
            ("finishedAt", .string(finishedAt)), ("restarts", .int(restarts)), ("hostConfig", hostConfig),
            ("logMaxSize", .int(logMaxSize)),
        ]
        if let exitCode { o.append(("exitCode", .int(exitCode))) }
        return .object(o)
    }

    public init(json j: JSON) throws {
        guard let id = j["id"]?.stringValue, let name = j["name"]?.stringValue else {
            throw EngineError("a container record lacks its id or name")
        }
        self.init(id: id, name: name, image: j["image"]?.stringValue ?? "", imageID: j["imageID"]?.stringValue ?? "",
                  created: j["created"]?.stringValue ?? "", args: j["args"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        labels = (j["labels"]?.objectValue ?? []).compactMap { k, v in v.stringValue.map { (k, $0) } }
        ports = j["ports"]?.arrayValue?.compactMap(\.stringValue) ?? []
        network = j["network"]?.stringValue ?? "none"
        autoRemove = j["autoRemove"]?.boolValue ?? false
        tty = j["tty"]?.boolValue ?? false
        interactive = j["interactive"]?.boolValue ?? false
        stopSignal = j["stopSignal"]?.stringValue ?? "TERM"
        stopTimeout = Int(j["stopTimeout"]?.int64Value ?? 10)
        storageDriver = j["storageDriver"]?.stringValue ?? ""
        startedAt = j["startedAt"]?.stringValue ?? ""
        finishedAt = j["finishedAt"]?.stringValue ?? ""
        exitCode = j["exitCode"]?.int64Value.map { Int32(truncatingIfNeeded: $0) }
        restarts = Int(j["restarts"]?.int64Value ?? 0)
        logMaxSize = j["logMaxSize"]?.int64Value ?? (64 << 20)
        hostConfig = j["hostConfig"] ?? .object([])
    }

    public var shortID: String { String(id.prefix(12)) }
}

/// A container's live condition, read from the runtime state.
public enum ContainerCondition: Equatable, Sendable {
    case created
    case running(pid: Int32)
    case exited(code: Int32?)

    public var word: String {
        switch self {
        case .created: return "created"
        case .running: return "running"
        case .exited: return "exited"
        }
    }
}
