#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine
import CoveImages
import CoveLinux

/// `cove pull REF`: an image from a registry into the store. Progress goes
/// to stderr (one redrawn line per blob on a terminal, plain lines
/// otherwise); the manifest digest, last, to stdout. The work is
/// cove-transfer's (see TransferHelper).
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry.",
        discussion: "Layers are stored as the registry serves them (gzip, zstd or plain tar) and unpacked as they "
            + "arrive, so the image is ready to run.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions

    @Option(name: .long, help: ArgumentHelp("The platform to pick from a multi-platform image (default: this machine).",
                                            valueName: "os/arch[/variant]"))
    var platform: String?

    @Flag(name: .shortAndLong, help: "Print only the manifest digest.")
    var quiet = false

    @Argument(help: ArgumentHelp("The image, e.g. alpine or 127.0.0.1:5000/app:1.0.", valueName: "image"))
    var reference: String

    func run() throws {
        try failing125 {
            try TransferHelper.pull(reference, dataRoot: store.rootPath, platform: platform, tlsVerify: registry.tlsVerify,
                                    quiet: quiet, printDigest: true)
        }
    }
}
