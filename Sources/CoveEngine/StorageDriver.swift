#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// How a container's root is assembled: the kernel's overlay in the user
/// namespace, fuse-overlayfs, or a copy. cove-fs probes the storage place
/// once; the answer is kept in `<root>/storage-driver.json`.
public struct StorageDriver: Sendable, Equatable {
    public var name: String
    public var reason: String

    public static let names = ["overlay", "fuse-overlayfs", "copy"]

    public static func decide(paths: CovePaths, coveFS: String, forced: String?) throws -> StorageDriver {
        if let forced {
            let n = forced == "vfs" ? "copy" : forced
            guard names.contains(n) else {
                throw EngineError("unknown storage driver \"\(forced)\": use overlay, fuse-overlayfs or copy")
            }
            return StorageDriver(name: n, reason: "chosen by --storage-driver")
        }
        if let env = Environment.get("COVE_STORAGE_DRIVER"), !env.isEmpty {
            return try decide(paths: paths, coveFS: coveFS, forced: env)
        }
        let cache = paths.dataRoot + "/storage-driver.json"
        if let b = try? Files.read(cache), let j = try? JSON.parse(b), let n = j["driver"]?.stringValue, names.contains(n) {
            return StorageDriver(name: n, reason: j["reason"]?.stringValue ?? "")
        }
        let (status, out, err) = try Spawn.capture(coveFS, ["probe", "--dir", paths.dataRoot])
        guard status == .exited(0), let j = try? JSON.parse(out), let n = j["driver"]?.stringValue, names.contains(n) else {
            let why = String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "\(status)"
            throw EngineError("cannot choose a storage driver for \(paths.dataRoot): \(why)")
        }
        let d = StorageDriver(name: n, reason: j["reason"]?.stringValue ?? "")
        try? Files.writeAtomically(cache, Array(out), mode: 0o600, durable: false)
        return d
    }
}
