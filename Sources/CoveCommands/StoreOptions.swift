#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveImages
import CoveLinux

/// `--root DIR`: where images live. Default `$XDG_DATA_HOME/cove`, else
/// `~/.local/share/cove`.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Where images are stored.", valueName: "dir"))
    var root: String?

    var rootPath: String {
        (try? GlobalOptions.paths(root: root).dataRoot) ?? "."
    }

    func openStore() throws -> ContentStore { try ContentStore(root: rootPath) }
}

/// docker and podman: a command that fails itself exits 125 with one line.
func failing125<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ExitCode { throw e } catch {
        printError("Error: \(error)")
        throw ExitCode(125)
    }
}

func printError(_ line: String) {
    var err = StandardError()
    print(line, to: &err)
}

struct StandardError: TextOutputStream {
    mutating func write(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
