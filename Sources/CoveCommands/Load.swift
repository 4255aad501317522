import ArgumentParser
import CoveImages

/// `cove load -i ARCHIVE`: a docker-archive or oci-archive into the store.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load an image from a docker-archive or oci-archive file.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("The archive to read.", valueName: "archive"))
    var input: String

    func run() throws {
        let records = try failing125 {
            try ArchiveLoader(store: try store.openStore()).load(archive: input)
        }
        for r in records {
            print(r.name.isEmpty ? "Loaded image ID: \(r.config)" : "Loaded image: \(r.name)")
        }
    }
}
