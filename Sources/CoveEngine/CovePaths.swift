#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// Where cove keeps things. podman's global flags name the two roots:
/// `--root` (images, layers, containers' writable layers, volumes: lasting
/// data, default `$XDG_DATA_HOME/cove`) and `--runroot` (live state: the
/// runtime's state, sockets; default `$XDG_RUNTIME_DIR/cove`, gone after a
/// reboot). `COVE_ROOT` and `COVE_RUNROOT` set them too, for users whose
/// home is on NFS.
public struct CovePaths: Sendable {
    public var dataRoot: String
    public var runRoot: String

    public init(dataRoot: String, runRoot: String) {
        self.dataRoot = dataRoot; self.runRoot = runRoot
    }

    public static func resolve(root: String? = nil, runroot: String? = nil) throws -> CovePaths {
        func nonEmpty(_ s: String?) -> String? { s.flatMap { $0.isEmpty ? nil : $0 } }
        // Relative values would end up relative in config.json (which
        // cove-unshare reads from the bundle): made absolute here; XDG
        // variables that are relative are ignored, as the XDG spec says.
        func absoluteXDG(_ s: String?) -> String? { nonEmpty(s).flatMap { $0.hasPrefix("/") ? $0 : nil } }
        let data = nonEmpty(root).map { Files.absolute($0) } ?? nonEmpty(Environment.get("COVE_ROOT")).map { Files.absolute($0) }
            ?? ((absoluteXDG(Environment.get("XDG_DATA_HOME")) ?? (Environment.get("HOME") ?? "/") + "/.local/share") + "/cove")
        let run: String
        if let r = nonEmpty(runroot).map({ Files.absolute($0) }) ?? nonEmpty(Environment.get("COVE_RUNROOT")).map({ Files.absolute($0) }) {
            run = r
        } else if let x = absoluteXDG(Environment.get("XDG_RUNTIME_DIR")), Files.isDirectory(x) {
            run = x + "/cove"
        } else {
            // As cove-unshare: a private directory under /tmp, ours and 0700.
            let base = "/tmp/cove-\(geteuid())"
            guard Files.ensurePrivateDirectory(base) else {
                throw EngineError("\(base) is not a private directory of uid \(geteuid()): remove it or set XDG_RUNTIME_DIR")
            }
            run = base
        }
        return CovePaths(dataRoot: data, runRoot: run)
    }

    /// cove-unshare's `--root`: state.json, exit.json, locks per container.
    public var runtimeRoot: String { runRoot + "/runtime" }
    public var containers: String { dataRoot + "/containers" }
    public var layers: String { dataRoot + "/layers" }
    public var volumes: String { dataRoot + "/volumes" }
    public func container(_ id: String) -> String { containers + "/" + id }
}

/// A failure of cove itself: one line for the user, exit 125.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
