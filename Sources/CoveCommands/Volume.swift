import ArgumentParser
import CoveEngine
import CoveModel

/// `cove volume create|ls|inspect|rm|prune`: named and anonymous volumes,
/// as docker's `local` driver, under `<root>/volumes/NAME/_data`.
struct VolumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "Manage volumes.",
        subcommands: [VolumeCreate.self, VolumeList.self, VolumeInspect.self, VolumeRemove.self, VolumePrune.self])

    static func store(_ o: StoreOptions) throws -> VolumeStore {
        try VolumeStore(paths: try GlobalOptions.paths(root: o.root))
    }
}

struct VolumeCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a volume (a random name without NAME).")

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("The volume's name.", valueName: "name")) var name: String?

    func run() throws {
        let v = try failing125 { try VolumeCommand.store(store).create(name).0 }
        print(v.name)
    }
}

struct VolumeList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List volumes.", aliases: ["list"])

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Only the names.") var quiet = false

    func run() throws {
        let all = try failing125 { try VolumeCommand.store(store).list() }
        if !quiet { print("DRIVER    VOLUME NAME") }
        for v in all { print(quiet ? v.name : "local     \(v.name)") }
    }
}

struct VolumeInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show volumes' details as JSON.")

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("Volumes, by name.", valueName: "volume")) var names: [String]

    func run() throws {
        let objects = try failing125 {
            let s = try VolumeCommand.store(store)
            return try names.map { n -> JSON in
                let v = try s.get(n)
                let labels: [(String, JSON)] = v.anonymous ? [(VolumeStore.anonymousLabel, .string(""))] : []
                return .object([("CreatedAt", .string(v.created)), ("Driver", .string("local")), ("Labels", .object(labels)),
                                ("Mountpoint", .string(v.mountpoint)), ("Name", .string(v.name)),
                                ("Options", .object([])), ("Scope", .string("local"))])
            }
        }
        print(JSON.array(objects).serialized(pretty: true))
    }
}

/// Every argument is tried; 125 when one failed, as docker.
struct VolumeRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove volumes.", aliases: ["remove"])

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Remove a volume even while a container uses it.") var force = false
    @Argument(help: ArgumentHelp("Volumes, by name.", valueName: "volume")) var names: [String]

    func run() throws {
        let s = try failing125 { try VolumeCommand.store(store) }
        var failed = false
        for n in names {
            do {
                try s.remove(n, force: force)
                print(n)
            } catch {
                printError("Error: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(125) }
    }
}

struct VolumePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove every volume no container uses.")

    @OptionGroup var store: StoreOptions
    @Flag(name: .shortAndLong, help: "Do not ask (cove never asks).") var force = false

    func run() throws {
        let removed = try failing125 { try VolumeCommand.store(store).prune() }
        for n in removed { print(n) }
    }
}
