import ArgumentParser
import CoveImages

/// `cove import TARBALL|- [REF]`: a root filesystem tarball as a one-layer
/// image, as podman's import makes it.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Make an image from a root filesystem tarball (plain, gzip, zstd, xz or bzip2).",
        discussion: """
            Prints the new image's ID. Without a name the image is unnamed; a short name is \
            local (demo is localhost/demo:latest). --change takes Dockerfile instructions: \
            ENV, CMD, ENTRYPOINT, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL, \
            e.g. --change 'ENV PATH=/bin' --change 'CMD ["sh"]'.
            """)

    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .long], help: ArgumentHelp("A Dockerfile instruction to apply to the image's config.", valueName: "instruction"))
    var change: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("A comment recorded in the image's history.", valueName: "text"))
    var message: String?

    @Flag(name: [.short, .long], help: "Print only the image ID (the default; accepted for podman's sake).")
    var quiet = false

    @Argument(help: ArgumentHelp("The tarball, or - for standard input.", valueName: "tarball"))
    var source: String

    @Argument(help: ArgumentHelp("The name to give the image.", valueName: "reference"))
    var reference: String?

    func run() throws {
        try failing125 {
            try TransferHelper.importTarball(source, reference: reference, changes: change, message: message,
                                             dataRoot: store.rootPath)
        }
    }
}
