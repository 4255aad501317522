import CoveLinux

/// Finds cove's helper executables: beside the running `cove` (a build
/// tree, or PREFIX/bin), then PREFIX/libexec/cove.
public struct HelperLocator: Sendable {
    public let searchPath: [String]

    public init(executablePath: String) {
        let bin = Files.parent(Files.absolute(executablePath)) ?? ""
        let prefix = Files.parent(bin) ?? ""
        searchPath = [bin.isEmpty ? "/" : bin, prefix + "/libexec/cove", "/usr/local/libexec/cove", "/usr/libexec/cove"]
    }

    /// For the running program, wherever PATH found it.
    public static func forThisProgram() -> HelperLocator {
        HelperLocator(executablePath: (try? Files.realPath("/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    public func find(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { Files.exists($0) }
    }
}

extension HelperLocator {
    /// Removes a tree of the store that may hold files of the user's
    /// subordinate ids (a writable layer, a volume's data, the overlay's
    /// scratch space). A plain removal first: enough when no directory in
    /// it is of a subordinate id (most of the time), and it saves a user
    /// namespace, newuidmap and newgidmap; it opens up our own directories
    /// first (the overlay's work/work is made mode 000). Else cove-fs
    /// removes it inside the user namespace.
    public func removeStoreTree(_ path: String) throws {
        guard Files.lstatMode(path) != nil, !OwnedTree.remove(path) else { return }
        guard let fs = find("cove-fs") else {
            throw EngineError("cannot remove \(path): cove-fs not found (searched \(searchPath.joined(separator: ", "))): reinstall cove")
        }
        let (status, _, err) = try Spawn.capture(fs, ["remove", path])
        guard status == .exited(0) else {
            throw EngineError("cannot remove \(path): " + (ContainerEngine.lastLine(err) ?? "cove-fs remove \(status)"))
        }
    }
}
