#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// The machine as it is.
public struct SystemHostProbe: HostProbe {
    public init() {}
    public var userName: String { Environment.userName ?? String(getuid()) }
    public var uid: UInt32 { getuid() }
    public var gid: UInt32 { getgid() }
    public func environment(_ name: String) -> String? { Environment.get(name) }
    public func readText(_ path: String) -> String? { try? Files.readText(path) }
    public func stat(_ path: String) -> (mode: UInt32, uid: UInt32)? { Files.modeAndOwner(path) }
    public func hasFileCapabilities(_ path: String) -> Bool {
        Files.hasExtendedAttribute(path, "security.capability")
    }
    public func canReadWrite(_ path: String) -> Bool { access(path, R_OK | W_OK) == 0 }
    public func filesystemType(_ path: String) -> Int64? { Files.filesystemType(path) }
    public func findExecutable(_ name: String) -> String? {
        Environment.findExecutable(name, path: "/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bin")
    }
}
