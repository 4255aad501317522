import ArgumentParser
import CoveImages

/// `cove tag SOURCE TARGET`: another name for an image in the store.
struct Tag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Give an image in the store another name.")

    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The image, by name or ID.", valueName: "source"))
    var source: String

    @Argument(help: ArgumentHelp("The new name.", valueName: "target"))
    var target: String

    func run() throws {
        try failing125 {
            let index = ImageIndex(store: try store.openStore())
            guard let record = try index.lookup(source).first else {
                throw ImageError("\(source): image not known (see `cove images`)")
            }
            _ = try index.tag(record, as: target)
        }
    }
}
