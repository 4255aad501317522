#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine

/// podman's global flags, given before the subcommand:
/// `cove --root DIR --runroot DIR --log-level LEVEL --storage-driver NAME run …`.
/// They are taken off the command line before the command tree parses it.
enum GlobalOptions {
    nonisolated(unsafe) static var root: String?
    nonisolated(unsafe) static var runroot: String?
    nonisolated(unsafe) static var logLevel: String?
    nonisolated(unsafe) static var storageDriver: String?

    static let names = ["--root", "--runroot", "--log-level", "--storage-driver"]

    /// Strips the global flags that come before the first other word.
    static func take(_ args: [String]) throws -> [String] {
        var rest: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            let (name, inline) = a.firstIndex(of: "=").map { (String(a[..<$0]), String(a[a.index(after: $0)...])) } ?? (a, nil)
            guard names.contains(name) else { break }
            let value: String
            if let inline { value = inline } else {
                guard i + 1 < args.count else { throw ValidationError("\(name) needs a value") }
                value = args[i + 1]
                i += 1
            }
            switch name {
            case "--root": root = value
            case "--runroot": runroot = value
            case "--log-level": logLevel = value
            default: storageDriver = value
            }
            i += 1
        }
        rest += args[i...]
        return rest
    }

    static func paths(root local: String? = nil) throws -> CovePaths {
        try CovePaths.resolve(root: local ?? root, runroot: runroot)
    }

    static func engine(root local: String? = nil) throws -> ContainerEngine {
        var e = try ContainerEngine(paths: try paths(root: local))
        e.logLevel = logLevel
        return e
    }
}

extension CoveCommand {
    /// The entry point: global flags first, then the command tree. Usage
    /// errors exit 125 as docker's do (ArgumentParser's own is 64). Every
    /// command runs on the main thread, the front's only one (pulls are
    /// cove-transfer's).
    public static func entry() {
        let args: [String]
        do { args = try GlobalOptions.take(Array(CommandLine.arguments.dropFirst())) } catch {
            printError("Error: \(error)")
            Glibc.exit(125)
        }
        do {
            if let verb = args.first, verb == "run" || verb == "create",
               let quick = QuickRunParser.parse(Array(args.dropFirst())) {
                if verb == "run" { try ContainerRun.run(quick) } else { try ContainerCreate.run(quick) }
                Glibc.exit(0)
            }
            var command = try parseDirect(args) ?? parseAsRoot(args)
            try command.run()
            Glibc.exit(0)
        } catch let code as ExitCode {
            // The container's own exit code, the usual end of `cove run`:
            // exitCode(for:) would first build a help message for it (several
            // ms of runtime type lookups) only to print nothing.
            Glibc.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Glibc.exit(125)
            }
            exit(withError: error)
        }
    }
}

extension CoveCommand {
    /// The verbs scripts start most often, parsed on their own. Parsing
    /// through the root builds the whole command tree first, and that costs
    /// ArgumentParser several milliseconds of runtime type lookups (each a
    /// scan of every protocol conformance in this large binary), a good part
    /// of `cove run`'s start. Anything the verb alone does not parse cleanly
    /// (help, usage errors, a verb's name used otherwise) goes through the
    /// root as before, so messages and help are the tree's own.
    static let direct: [String: ParsableCommand.Type] = [
        "run": ContainerRun.self, "create": ContainerCreate.self, "start": ContainerStart.self, "rm": ContainerRemove.self,
    ]

    static func parseDirect(_ args: [String]) -> ParsableCommand? {
        guard let verb = args.first, let type = direct[verb] else { return nil }
        // A verb parsed as a root answers -h itself (as a help command of
        // its own, without "cove" in the usage): only the verb's own type is
        // taken from here.
        guard let command = try? type.parseAsRoot(Array(args.dropFirst())),
              ObjectIdentifier(Swift.type(of: command)) == ObjectIdentifier(type) else { return nil }
        return command
    }
}
