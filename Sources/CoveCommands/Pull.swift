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
/// cove-registry's (see RegistryHelper).
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Pull an image from a registry.",
        discussion: "Layers are stored as the registry serves them (gzip, zstd or plain tar).")

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
            try RegistryHelper.pull(reference, dataRoot: store.rootPath, platform: platform, tlsVerify: registry.tlsVerify,
                                    quiet: quiet, printDigest: true)
        }
    }
}

/// The front's way to a registry: cove-registry, a helper beside cove (or
/// in libexec), the one program that links the HTTP stack. Keeping that
/// stack out of the front keeps every `cove run` from loading it.
enum RegistryHelper {
    static func path() throws -> String {
        let helpers = HelperLocator.forThisProgram()
        guard let p = helpers.find("cove-registry") else {
            throw EngineError("cove-registry not found (searched \(helpers.searchPath.joined(separator: ", "))): reinstall cove")
        }
        return p
    }

    /// Pulls `reference` into the store at `dataRoot`, showing progress on
    /// stderr; throws the helper's own one-line reason.
    static func pull(_ reference: String, dataRoot: String, platform: String?, tlsVerify: Bool,
                     quiet: Bool = false, printDigest: Bool = false) throws {
        var args = ["pull", "--root", dataRoot, "--tls-verify", String(tlsVerify), "--error-fd", "3",
                    "--progress", quiet ? "quiet" : isatty(2) == 1 ? "terminal" : "plain"]
        if let platform { args += ["--platform", platform] }
        if printDigest { args.append("--print-digest") }
        try run(args + [reference])
    }

    /// Checks `credentials` against `registry` (nothing is filed).
    static func verifyLogin(_ credentials: Credentials, registry: String, tlsVerify: Bool) throws {
        guard !credentials.username.contains("\n"), !credentials.password.contains("\n") else {
            throw EngineError("a user name or password with a line break cannot be used")
        }
        try run(["login", "--tls-verify", String(tlsVerify), "--error-fd", "3", registry],
                input: Array("\(credentials.username)\n\(credentials.password)".utf8))
    }

    static func run(_ args: [String], input: [UInt8]? = nil) throws {
        let (status, report) = try Spawn.runReporting(try path(), args, input: input)
        guard status != .exited(0) else { return }
        // Interrupted: as if we were (the terminal's ^C reached us too).
        if case .signaled(let sig) = status, sig == SIGINT || sig == SIGTERM { throw ExitCode(128 + sig) }
        throw EngineError(report.isEmpty ? "cove-registry \(status)" : report)
    }
}
