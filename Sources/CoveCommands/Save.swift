import ArgumentParser
import CoveImages

/// `cove save -o FILE [--format docker-archive|oci-archive] IMAGE...`.
struct Save: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save images to a docker-archive or oci-archive file.",
        discussion: "podman load, docker load, skopeo and cove load read the file back.")

    @OptionGroup var store: StoreOptions

    @Option(name: [.short, .long], help: ArgumentHelp("The file to write.", valueName: "file"))
    var output: String

    @Option(help: ArgumentHelp("docker-archive or oci-archive.", valueName: "format"))
    var format: String = ArchiveWriter.Format.dockerArchive.rawValue

    @Argument(help: ArgumentHelp("Images, by name or ID.", valueName: "image"))
    var images: [String]

    func validate() throws {
        guard ArchiveWriter.Format(rawValue: format) != nil else {
            throw ValidationError("unknown format \"\(format)\": use docker-archive or oci-archive")
        }
        guard !images.isEmpty else { throw ValidationError("name at least one image to save") }
    }

    func run() throws {
        try failing125 {
            let contents = try store.openStore()
            let index = ImageIndex(store: contents)
            let records = try images.map { text -> ImageRecord in
                guard let r = try index.find(text) else { throw ImageError("\(text): image not known; see `cove images`") }
                return r
            }
            try ArchiveWriter(store: contents).save(records, format: ArchiveWriter.Format(rawValue: format) ?? .dockerArchive,
                                                    to: output)
        }
    }
}
