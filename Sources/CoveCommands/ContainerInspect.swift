import ArgumentParser
import CoveEngine
import CoveLinux
import CoveModel

/// `cove inspect`: containers as docker's JSON (the fields users script against).
struct ContainerInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show containers' details as JSON.")
    @Option(name: [.customShort("f"), .long], help: "Format with a Go template ({{.State.Status}}…).") var format: String?
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        var docs: [JSON] = []
        var failed = false
        for name in containers {
            do { docs.append(try Self.document(engine, try engine.containers.find(name))) } catch {
                printError("Error: \(error)")
                failed = true
            }
        }
        if let format {
            for d in docs { print(try Self.render(format.replacingEscapes(), d)) }
        } else {
            print(JSON.array(docs).serialized(pretty: true))
        }
        if failed { throw ExitCode(125) }
    }

    static func document(_ engine: ContainerEngine, _ r: ContainerRecord) throws -> JSON {
        let dir = engine.paths.container(r.id)
        let config = (try? JSON.parse(try Files.read(dir + "/config.json"))) ?? .object([])
        let process = config["process"] ?? .object([])
        let cond = engine.containers.condition(r)
        var pid = 0, running = false, code: Int32 = 0
        switch cond {
        case let .running(p): pid = Int(p); running = true
        case let .exited(c): code = c ?? -1
        case .created: break
        }
        let user = process["user"].map { u in "\(u["uid"]?.int64Value ?? 0):\(u["gid"]?.int64Value ?? 0)" } ?? ""
        let args = r.args
        let never = "0001-01-01T00:00:00Z"
        let finished = engine.containers.exitTime(r) ?? (r.finishedAt.isEmpty ? never : r.finishedAt)
        let state: JSON = .object([
            ("Status", .string(cond.word)), ("Running", .bool(running)), ("Paused", .bool(false)),
            ("Restarting", .bool(false)), ("OOMKilled", .bool(false)), ("Dead", .bool(false)),
            ("Pid", .int(pid)), ("ExitCode", .int(code)), ("Error", .string(engine.networkFailure(r) ?? "")),
            ("StartedAt", .string(r.startedAt.isEmpty ? never : r.startedAt)), ("FinishedAt", .string(finished)),
        ])
        let binds = (config["mounts"]?.arrayValue ?? []).filter { m in
            m["type"]?.stringValue == "bind" && !(m["source"]?.stringValue ?? "").hasPrefix(dir)
        }
        let mounts: [JSON] = binds.map { m in
            let ro = (m["options"]?.arrayValue ?? []).contains(.string("ro"))
            return .object([("Type", .string("bind")), ("Source", m["source"] ?? .null),
                            ("Destination", m["destination"] ?? .null), ("RW", .bool(!ro))])
        }
        let labels: [(String, JSON)] = r.labels.map { ($0.0, .string($0.1)) }
        let configDoc: JSON = .object([
            ("Hostname", config["hostname"] ?? .string("")), ("User", .string(user)),
            ("Tty", .bool(r.tty)), ("OpenStdin", .bool(r.interactive)), ("Env", process["env"] ?? .array([])),
            ("Cmd", .array(args.map { .string($0) })), ("Image", .string(r.image)),
            ("WorkingDir", process["cwd"] ?? .string("/")), ("Labels", .object(labels)),
            ("StopSignal", .string(r.stopSignal)),
        ])
        let network: JSON = .object([
            ("Ports", .array(r.ports.map { .string($0) })),
            ("IPAddress", .string(r.network.hasPrefix("slirp") ? "10.0.2.100" : "")),
            ("NetworkMode", .string(r.network)),
        ])
        var doc: [(String, JSON)] = [("Id", .string(r.id)), ("Created", .string(r.created))]
        doc.append(("Path", .string(args.first ?? "")))
        doc.append(("Args", .array(args.dropFirst().map { .string($0) })))
        doc.append(("State", state))
        doc.append(("Image", .string(r.imageID)))
        doc.append(("ImageName", .string(r.image)))
        doc.append(("Name", .string("/" + r.name)))
        doc.append(("RestartCount", .int(r.restarts)))
        doc.append(("Driver", .string(r.storageDriver)))
        doc.append(("LogPath", .string(engine.logPath(r))))
        doc.append(("HostConfig", r.hostConfig))
        doc.append(("Mounts", .array(mounts)))
        doc.append(("Config", configDoc))
        doc.append(("NetworkSettings", network))
        return .object(doc)
    }

    /// `{{.A.B}}` paths into the document; strings bare, the rest as JSON.
    static func render(_ tpl: String, _ doc: JSON) throws -> String {
        try GoTemplate.render(tpl) { path in
            var j: JSON? = doc
            for part in path.split(separator: ".") where !part.isEmpty { j = j?[String(part)] }
            guard let v = j else { return nil }
            if let s = v.stringValue { return s }
            return v.serialized()
        }
    }
}
