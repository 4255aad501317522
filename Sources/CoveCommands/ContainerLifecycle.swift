#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine
import CoveLinux

/// Runs `body` for each named container, printing each name as docker does;
/// failures are printed one line each and make the command exit 125 at the
/// end, or 1 when the only failures were names that match no container.
func forEachContainer(_ names: [String], root: String?, print echo: Bool = true,
                      _ body: (ContainerEngine, ContainerRecord) throws -> Void) throws {
    let engine = try failing125 { try GlobalOptions.engine(root: root) }
    var failed = false, missing = false
    for name in names {
        do {
            let r = try engine.containers.find(name)
            try body(engine, r)
            if echo { print(name) }
        } catch let e as NoSuchContainer {
            printError("Error: \(e)")
            missing = true
        } catch {
            printError("Error: \(error)")
            failed = true
        }
    }
    if failed { throw ExitCode(125) }
    if missing { throw ExitCode(1) }
}

struct ContainerStart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start one or more containers.")
    @Flag(name: .shortAndLong, help: "Attach to the container's output and wait for it.") var attach = false
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        if attach {
            guard containers.count == 1 else { throw failingUsage("start --attach takes one container") }
            let engine = try failing125 { try GlobalOptions.engine(root: root) }
            let r = try failing125 { try engine.containers.find(containers[0]) }
            let code = try failing125 { try engine.runAttached(r) }
            if r.autoRemove { try? engine.remove(try engine.containers.find(r.id), force: true, volumes: true) }
            throw ExitCode(code)
        }
        try forEachContainer(containers, root: root) { engine, r in try engine.startDetached(r) }
    }
}

struct ContainerStop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers.")
    @Option(name: [.customShort("t"), .long], help: "Seconds to wait before killing.") var time: Int?
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        try forEachContainer(containers, root: root) { engine, r in
            try engine.stop(r, timeout: time ?? r.stopTimeout)
            // A --rm container: its monitor's exit command removes it too,
            // and may have done so already; gone is what stop wants.
            if r.autoRemove, let current = try? engine.containers.find(r.id) {
                do { try engine.remove(current, force: true, volumes: true) } catch {
                    if (try? engine.containers.find(r.id)) != nil { throw error }
                }
            }
        }
    }
}

struct ContainerRestart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one or more containers.")
    @Option(name: [.customShort("t"), .long], help: "Seconds to wait before killing.") var time: Int?
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        try forEachContainer(containers, root: root) { engine, r in
            try engine.stop(r, timeout: time ?? r.stopTimeout)
            try engine.startDetached(try engine.containers.find(r.id))
        }
    }
}

struct ContainerKill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Send a signal to one or more running containers.")
    @Option(name: .shortAndLong, help: "The signal (default KILL).") var signal = "KILL"
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        guard Signals.parse(signal) != nil else { throw failingUsage("invalid signal \"\(signal)\"") }
        try forEachContainer(containers, root: root) { engine, r in try engine.kill(r, signal: signal) }
    }
}

struct ContainerRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers.")
    @Flag(name: .shortAndLong, help: "Stop running containers first.") var force = false
    @Flag(name: .shortAndLong, help: "Also remove the container's anonymous volumes (never named ones).") var volumes = false
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        try forEachContainer(containers, root: root) { engine, r in try engine.remove(r, force: force, volumes: volumes) }
    }
}

struct ContainerWait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait for containers to stop and print their exit codes.")
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "Containers, by name or ID.") var containers: [String]

    func run() throws {
        try forEachContainer(containers, root: root, print: false) { engine, r in
            // Bounded only by the container's life, as docker's wait is.
            while case let .running(pid) = engine.containers.condition(r) {
                engine.waitExited(r, pid: pid, seconds: 3600)
            }
            if case let .exited(code) = engine.containers.condition(r) { print(code ?? -1) } else { print(0) }
        }
    }
}

struct ContainerRename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container.")
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "The container.") var container: String
    @Argument(help: "Its new name.") var newName: String

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        try failing125 { try engine.containers.rename(try engine.containers.find(container).id, to: newName) }
    }
}

struct ContainerPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all stopped containers.")
    @Flag(name: .shortAndLong, help: "Do not ask (cove never asks).") var force = false
    @Option(name: .long, help: .hidden) var root: String?

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        var failed = false
        for r in engine.containers.list() {
            if case .running = engine.containers.condition(r) { continue }
            do { try engine.remove(r, force: false); print(r.id) } catch { printError("Error: \(error)"); failed = true }
        }
        if failed { throw ExitCode(125) }
    }
}

/// `cove container …`: the same verbs under docker's management command.
struct ContainerGroup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container", abstract: "Manage containers.",
        subcommands: [ContainerRun.self, ContainerCreate.self, ContainerStart.self, ContainerStop.self,
                      ContainerRestart.self, ContainerKill.self, ContainerRemove.self, ContainerList.self,
                      ContainerLogs.self, ContainerInspect.self, ContainerWait.self, ContainerExec.self,
                      ContainerRename.self, ContainerTop.self, ContainerPort.self, ContainerCp.self, ContainerPrune.self])
}

/// A usage mistake found after parsing: one line, exit 125.
func failingUsage(_ message: String) -> ExitCode {
    printError("Error: \(message)")
    return ExitCode(125)
}
