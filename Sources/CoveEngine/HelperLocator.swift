import CoveLinux

/// Finds cove's helper executables: beside the running `cove` (a build
/// tree, or PREFIX/bin), then PREFIX/libexec/cove.
public struct HelperLocator: Sendable {
    public let searchPath: [String]

    public init(executablePath: String) {
        let dir = Files.absolute(executablePath).split(separator: "/").dropLast().joined(separator: "/")
        let bin = "/" + dir
        let prefix = "/" + dir.split(separator: "/").dropLast().joined(separator: "/")
        searchPath = [bin, prefix + "/libexec/cove", "/usr/local/libexec/cove", "/usr/libexec/cove"]
    }

    /// For the running program, wherever PATH found it.
    public static func forThisProgram() -> HelperLocator {
        HelperLocator(executablePath: (try? Files.realPath("/proc/self/exe")) ?? CommandLine.arguments[0])
    }

    public func find(_ name: String) -> String? {
        searchPath.map { "\($0)/\(name)" }.first { Files.exists($0) }
    }
}
