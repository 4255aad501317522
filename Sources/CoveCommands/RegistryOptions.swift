import ArgumentParser
import CoveImages

/// `--tls-verify=false`: HTTPS without certificate checks, then plain
/// HTTP, as for a registry on loopback.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("tls-verify"),
            help: ArgumentHelp("Require HTTPS with a verified certificate (loopback registries never do).",
                               valueName: "bool"))
    var tlsVerify = true
}

/// `failing125` for async commands: one `Error: …` line, exit 125.
func failing125<T>(_ body: () async throws -> T) async throws -> T {
    do { return try await body() } catch let e as ExitCode { throw e } catch {
        printError("Error: \(error)")
        throw ExitCode(125)
    }
}
