import ArgumentParser
import CoveEngine
import CoveLinux
import CoveModel

/// `cove top`: the container's processes, as the host's ps(1) shows them
/// (docker's default columns; other ps options may follow).
struct ContainerTop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "top", abstract: "Show a container's processes.")
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "The container.") var container: String
    @Argument(parsing: .captureForPassthrough, help: "ps options (default: -f).") var psOptions: [String] = []

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        let pids = try failing125 { () throws -> [Int] in
            let r = try engine.containers.find(container)
            guard case .running = engine.containers.condition(r) else { throw EngineError("container \(r.name) is not running") }
            let (status, out, err) = try engine.runtime(["ps", "--format", "json", r.id])
            guard status == .exited(0), let list = try? JSON.parse(out).arrayValue else {
                throw EngineError("cannot list the processes of \(r.name): \(String(decoding: err, as: UTF8.self))")
            }
            return list.compactMap { $0.int64Value.map(Int.init) }
        }
        guard let ps = Environment.findExecutable("ps", path: "/usr/bin:/bin") else {
            throw failingUsage("ps not found on this host: install procps")
        }
        let opts = psOptions.isEmpty ? ["-f"] : psOptions
        let (status, out, err) = try Spawn.capture(ps, opts + ["-p", pids.map(String.init).joined(separator: ",")])
        print(String(decoding: out, as: UTF8.self), terminator: "")
        if status != .exited(0) {
            printError("Error: ps: " + String(decoding: err, as: UTF8.self))
            throw ExitCode(125)
        }
    }
}

/// `cove port`: the container's published ports, as docker prints them.
struct ContainerPort: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List a container's published ports.")
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "The container.") var container: String
    @Argument(help: "Only this port (80 or 80/tcp).") var port: String?

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        let r = try failing125 { try engine.containers.find(container) }
        for spec in r.ports {
            guard let p = PublishedPort(spec) else { continue }
            if let port, port != p.containerPort, port != "\(p.containerPort)/\(p.proto)" { continue }
            print(port == nil ? "\(p.containerPort)/\(p.proto) -> \(p.hostIP):\(p.hostPort)" : "\(p.hostIP):\(p.hostPort)")
        }
    }
}

/// `[IP:]HOST:CTR[/proto]` as -p takes it.
struct PublishedPort {
    var hostIP = "0.0.0.0"
    var hostPort: String
    var containerPort: String
    var proto = "tcp"

    init?(_ spec: String) {
        var s = Substring(spec)
        if let slash = s.lastIndex(of: "/") { proto = String(s[s.index(after: slash)...]); s = s[..<slash] }
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
            // [IPV6]:HOST:CTR
            hostIP = String(s[...close])
            let rest = s[s.index(after: close)...].split(separator: ":").map(String.init)
            guard rest.count == 2 else { return nil }
            hostPort = rest[0]; containerPort = rest[1]
            return
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1: hostPort = parts[0]; containerPort = parts[0]
        case 2: hostPort = parts[0]; containerPort = parts[1]
        case 3: hostIP = parts[0]; hostPort = parts[1]; containerPort = parts[2]
        default: return nil
        }
        if hostIP.isEmpty { hostIP = "0.0.0.0" }
    }
}
