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
