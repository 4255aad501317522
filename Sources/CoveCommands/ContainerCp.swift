import ArgumentParser
import CoveEngine
import CoveLinux

/// `cove cp CONTAINER:SRC DEST` or `cove cp SRC CONTAINER:DEST`.
struct ContainerCp: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cp", abstract: "Copy files between a running container and the host.")
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "CONTAINER:PATH or a host path.") var source: String
    @Argument(help: "CONTAINER:PATH or a host path.") var destination: String

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        try failing125 {
            func split(_ s: String) -> (String, String)? {
                guard !s.hasPrefix("/"), !s.hasPrefix("."), let colon = s.firstIndex(of: ":") else { return nil }
                return (String(s[..<colon]), String(s[s.index(after: colon)...]))
            }
            switch (split(source), split(destination)) {
            case let ((name, path)?, nil):
                try ConfinedCopy(pid: try runningPid(engine, name)).copy(fromContainer: name, path, toHost: destination)
            case let (nil, (name, path)?):
                try ConfinedCopy(pid: try runningPid(engine, name)).copy(fromHost: source, toContainer: name, path)
            default:
                throw EngineError("cp copies between a container and the host: one side is CONTAINER:PATH, the other a host path")
            }
        }
    }

    func runningPid(_ engine: ContainerEngine, _ name: String) throws -> Int32 {
        let r = try engine.containers.find(name)
        guard case let .running(pid) = engine.containers.condition(r) else {
            throw EngineError("container \(r.name) is not running: cove cp works on running containers (start it first)")
        }
        return pid
    }
}
