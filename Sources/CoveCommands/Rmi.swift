import ArgumentParser
import CoveEngine
import CoveImages

/// `cove rmi IMAGE...`: removes names; an image no name refers to any more
/// is deleted, and blobs nothing refers to are garbage-collected. Like
/// podman: every argument is tried, exit 1 when one was not known, 125 for
/// any other failure.
struct Rmi: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images from the store.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Remove an image by ID even when several names refer to it.")
    var force = false

    @Argument(help: ArgumentHelp("Images, by name or ID.", valueName: "image"))
    var images: [String]

    func run() throws {
        let index = try failing125 { ImageIndex(store: try store.openStore()) }
        var unknown = false
        var failed = false
        for text in images {
            do {
                let matched = try index.lookup(text)
                guard !matched.isEmpty else {
                    printError("Error: \(text): image not known")
                    unknown = true
                    continue
                }
                let named = matched.filter { !$0.name.isEmpty }
                if matched.count > 1 && !force {
                    throw ImageError("\(text) is named \(named.map(\.name).joined(separator: ", ")): "
                                     + "remove the names one by one, or all of them with -f")
                }
                // docker: an image a container was made from stays unless -f.
                if !force, let engine = try? GlobalOptions.engine(root: store.root) {
                    for config in Set(matched.map(\.config)) {
                        let users = engine.containersUsing(imageID: config.description)
                        if !users.isEmpty, matched.count == index.namesOf(config).count {
                            throw ImageError("image \(text) is in use by container \(users.map(\.name).joined(separator: ", ")): "
                                             + "remove the container first, or use rmi -f")
                        }
                    }
                }
                try index.remove(matched)
                for r in named { print("Untagged: \(r.name)") }
                let left = try index.list()
                for config in Set(matched.map(\.config)) where !left.contains(where: { $0.config == config }) {
                    print("Deleted: \(config.hex)")
                }
            } catch {
                printError("Error: \(error)")
                failed = true
            }
        }
        do {
            _ = try index.collectGarbage()
            try GlobalOptions.engine(root: store.root).collectUnusedLayers()
        } catch {
            printError("Error: \(error)")
            failed = true
        }
        if failed { throw ExitCode(125) }
        if unknown { throw ExitCode(1) }
    }
}
