import ArgumentParser
import CoveImages

/// `cove load -i ARCHIVE`: a docker-archive or oci-archive into the store
/// (cove-transfer does the work).
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load an image from a docker-archive or oci-archive file.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.customShort("i"), .customLong("input")], help: ArgumentHelp("The archive to read.", valueName: "archive"))
    var input: String

    func run() throws {
        try failing125 { try TransferHelper.load(input, dataRoot: store.rootPath) }
    }
}
