#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveImages
import CoveLinux

/// `cove login REGISTRY`: checks the credentials against the registry
/// (through cove-transfer), then files them in podman's auth.json (0600, written atomically).
struct Login: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Log in to a registry.")

    @OptionGroup var registry: RegistryOptions

    @Option(name: .shortAndLong, help: "The user name.")
    var username: String?

    @Option(name: .shortAndLong, help: "The password (visible to other users in ps: prefer --password-stdin).")
    var password: String?

    @Flag(name: .long, help: "Read the password from standard input.")
    var passwordStdin = false

    @Argument(help: ArgumentHelp("The registry, e.g. 127.0.0.1:5000 or docker.io.", valueName: "registry"))
    var server: String

    func validate() throws {
        if password != nil && passwordStdin { throw ValidationError("--password and --password-stdin exclude each other") }
        if passwordStdin && username == nil { throw ValidationError("--password-stdin needs --username") }
    }

    func run() throws {
        let host = RegistryName.normalize(server)
        try failing125 {
            guard let user = username ?? prompt("Username: ") else {
                throw ValidationError("no user name: give one with --username")
            }
            let pass: String
            if passwordStdin {
                pass = try readStandardInput()
            } else if let password {
                pass = password
            } else if isatty(0) == 1, let p = getpass("Password: ") {
                pass = String(cString: p)
            } else {
                throw ValidationError("no password: give one with --password or --password-stdin")
            }
            let credentials = Credentials(username: user, password: pass)
            try TransferHelper.verifyLogin(credentials, registry: host, tlsVerify: registry.tlsVerify)
            try AuthFile.standard().store(credentials, registry: host)
        }
        print("Login Succeeded!")
    }

    func prompt(_ text: String) -> String? {
        guard isatty(0) == 1 else { return nil }
        var err = StandardError()
        err.write(text)
        return readLine(strippingNewline: true)
    }

    /// The whole of stdin, less one trailing newline (as docker and podman).
    func readStandardInput() throws -> String {
        let bytes = try Files.readAll(fd: 0, limit: 1 << 20, what: "the password on standard input")
        var s = String(decoding: bytes, as: UTF8.self)
        if s.hasSuffix("\n") { s.removeLast() }
        if s.hasSuffix("\r") { s.removeLast() }
        return s
    }
}

enum RegistryName {
    /// `https://reg.example/v2/` → `reg.example`; Docker Hub's aliases → docker.io.
    static func normalize(_ s: String) -> String {
        var r = Substring(s)
        for p in ["https://", "http://"] where r.hasPrefix(p) { r = r.dropFirst(p.count) }
        if let slash = r.firstIndex(of: "/") { r = r[..<slash] }
        return ["index.docker.io", "registry-1.docker.io"].contains(String(r)) ? "docker.io" : String(r)
    }
}
