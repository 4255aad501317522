import ArgumentParser
import CoveEngine
import CoveImages
import CoveModel

/// `cove image inspect|prune` (`cove image ls` is `cove images`).
struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images in the store.",
        subcommands: [ImageInspect.self, ImagePrune.self])
}

/// `cove image inspect IMAGE...`: a JSON array, one object an image, with
/// docker's keys.
struct ImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show images' details as JSON.")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("Images, by name or ID.", valueName: "image"))
    var images: [String]

    func run() throws {
        let objects = try failing125 {
            let contents = try store.openStore()
            let index = ImageIndex(store: contents)
            let all = try index.list()
            return try images.map { text -> JSON in
                guard let r = try index.lookup(text).first else { throw ImageError("\(text): image not known") }
                let config = try JSON.parse(try contents.read(r.config))
                let names = all.filter { $0.config == r.config && !$0.name.isEmpty }.map(\.name)
                return .object([
                    ("Id", .string(r.config.hex)),
                    ("RepoTags", .array(names.map { .string($0) })),
                    ("Digest", .string(r.manifest.description)),
                    ("Created", .string(r.created)),
                    ("Architecture", config["architecture"] ?? .string("")),
                    ("Os", config["os"] ?? .string("")),
                    ("Config", config["config"] ?? .object([])),
                    ("RootFS", config["rootfs"] ?? .object([])),
                    ("Size", .int(r.size)),
                ])
            }
        }
        print(JSON.array(objects).serialized(pretty: true))
    }
}

/// `cove image prune`: removes unnamed images, then unreferenced blobs.
struct ImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unnamed images and unused blobs.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        try failing125 {
            let index = ImageIndex(store: try store.openStore())
            let unnamed = try index.list().filter { $0.name.isEmpty }
            try index.remove(unnamed)
            _ = try index.collectGarbage()
            try GlobalOptions.engine(root: store.root).collectUnusedLayers()
            for r in unnamed { print(r.config.hex) }
        }
    }
}
