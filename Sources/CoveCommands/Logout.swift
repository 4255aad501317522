import ArgumentParser
import CoveImages

/// `cove logout REGISTRY | --all`: removes credentials from podman's
/// auth.json (docker's config.json is only ever read).
struct Logout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out of a registry.")

    @Flag(name: .shortAndLong, help: "Remove the credentials of every registry.")
    var all = false

    @Argument(help: ArgumentHelp("The registry.", valueName: "registry"))
    var server: String?

    func validate() throws {
        if all == (server != nil) { throw ValidationError("give a registry or --all, not both or neither") }
    }

    func run() throws {
        let file = AuthFile.standard()
        if all {
            _ = try failing125 { try file.removeAll() }
            print("Removed login credentials for all registries")
            return
        }
        let host = RegistryName.normalize(server ?? "")
        let found = try failing125 { try file.remove(registry: host) }
        guard found else {
            printError("Error: not logged into \(host)")
            throw ExitCode(125)
        }
        print("Removed login credentials for \(host)")
    }
}
