import ArgumentParser
import CoveEngine
import CoveImages

/// `cove pull REF`: an image from a registry into the store. Progress goes
/// to stderr (one redrawn line per blob on a terminal, plain lines
/// otherwise); the manifest digest, last, to stdout.
struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
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

    func run() async throws {
        let display = PullProgress(mode: quiet ? .quiet : PullProgress.isTerminal ? .terminal : .plain)
        let result = try await failing125 {
            let contentStore = try store.openStore()
            var puller = Puller(store: contentStore,
                                platform: try platform.map { try Platform(parsing: $0) } ?? .host,
                                tlsVerify: registry.tlsVerify)
            // Unpacked as podman pull does; without cove-fs (a broken
            // install) `cove create` says what is missing.
            puller.unpacker = try? LayerCache(paths: try GlobalOptions.paths(root: store.root), store: contentStore,
                                              helpers: .forThisProgram())
            do {
                return try await puller.pull(reference) { display.handle($0) }
            } catch {
                display.finish()
                throw error
            }
        }
        display.finish()
        print(result.record.manifest)
    }
}
