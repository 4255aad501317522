#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine
import CoveImages
import CoveLinux

/// The front's way to move images in and out of the store: cove-transfer,
/// a helper beside cove (or in libexec), the one program that links the
/// HTTP stack and libarchive. Keeping them out of the front keeps it a
/// static executable that every `cove run` starts quickly.
enum TransferHelper {
    static func path() throws -> String {
        let helpers = HelperLocator.forThisProgram()
        guard let p = helpers.find("cove-transfer") else {
            throw EngineError("cove-transfer not found (searched \(helpers.searchPath.joined(separator: ", "))): reinstall cove")
        }
        return p
    }

    /// Pulls `reference` into the store at `dataRoot`, showing progress on
    /// stderr; throws the helper's own one-line reason.
    static func pull(_ reference: String, dataRoot: String, platform: String?, tlsVerify: Bool,
                     quiet: Bool = false, printDigest: Bool = false) throws {
        var args = ["pull", "--root", dataRoot, "--tls-verify", String(tlsVerify),
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
        try run(["login", "--tls-verify", String(tlsVerify), registry],
                input: Array("\(credentials.username)\n\(credentials.password)".utf8))
    }

    /// `cove load -i ARCHIVE`: prints what it loaded.
    static func load(_ archive: String, dataRoot: String) throws {
        try run(["load", "--root", dataRoot, "--input", archive])
    }

    /// `cove save`: `images` by name or ID into `output`.
    static func save(_ images: [String], format: String, output: String, dataRoot: String) throws {
        try run(["save", "--root", dataRoot, "--output", output, "--format", format, "--"] + images)
    }

    /// `cove import`: prints the new image's ID.
    static func importTarball(_ source: String, reference: String?, changes: [String], message: String?,
                              dataRoot: String) throws {
        var args = ["import", "--root", dataRoot]
        for c in changes { args += ["--change", c] }
        if let message { args += ["--message", message] }
        try run(args + ["--", source] + (reference.map { [$0] } ?? []))
    }

    static func run(_ args: [String], input: [UInt8]? = nil) throws {
        // Its failure's one line comes back on fd 3 (Spawn.runReporting).
        let (status, report) = try Spawn.runReporting(try path(), [args[0], "--error-fd", "3"] + args.dropFirst(), input: input)
        guard status != .exited(0) else { return }
        // Interrupted: as if we were (the terminal's ^C reached us too).
        if case .signaled(let sig) = status, sig == SIGINT || sig == SIGTERM { throw ExitCode(128 + sig) }
        // 125 without a report: the helper said what failed on stderr.
        if report.isEmpty && status == .exited(125) { throw ExitCode(125) }
        throw EngineError(report.isEmpty ? "cove-transfer \(status)" : report)
    }
}
