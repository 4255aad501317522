#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux

/// Unpacked layers, one directory per diff_id under `<root>/layers`, made
/// by `cove-fs unpack` inside a user namespace with the user's mapping.
/// cove-fs writes each into a temporary name and renames it into place, so
/// a directory here is always whole; a lock per layer keeps two commands
/// from unpacking the same layer at once.
public struct LayerCache: Sendable {
    public let directory: String
    public let store: ContentStore
    public let coveFS: String

    public init(paths: CovePaths, store: ContentStore, helpers: HelperLocator) throws {
        directory = paths.layers
        self.store = store
        guard let fs = helpers.find("cove-fs") else {
            throw EngineError("cove-fs not found (searched \(helpers.searchPath.joined(separator: ", "))): reinstall cove")
        }
        coveFS = fs
        try Files.makeDirectories(directory, mode: 0o700)
    }

    public func path(_ layer: StoredImage.Layer) -> String { directory + "/" + layer.diffID.hex }

    /// The image's layer directories, bottom first, unpacking what is missing.
    public func unpack(_ image: StoredImage) throws -> [String] {
        var done: [String] = []
        for layer in image.layers {
            let dir = path(layer)
            if !Files.isDirectory(dir) {
                let lock = try FileLock.acquire(directory + "/." + layer.diffID.hex + ".lock")
                defer { close(lock); unlink(directory + "/." + layer.diffID.hex + ".lock") }
                if !Files.isDirectory(dir) {
                    var args = ["unpack", "--blob", store.blobPath(layer.digest), "--diff-id", layer.diffID.description,
                                "--into", dir]
                    for lower in done.reversed() { args += ["--lower", lower] }
                    let (status, _, err) = try Spawn.capture(coveFS, args)
                    if status != .exited(0) || !Files.isDirectory(dir) {
                        let why = String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init)
                            ?? "cove-fs unpack \(status)"
                        throw EngineError("cannot unpack layer \(layer.digest) of \(image.record.name): "
                            + LayerCache.stripPrefixes(why))
                    }
                }
            }
            done.append(dir)
        }
        return done
    }

    /// "cove-fs: Error: what" → "what".
    static func stripPrefixes(_ line: String) -> String {
        var s = Substring(line)
        for p in ["cove-fs: ", "Error: ", "error: "] where s.hasPrefix(p) { s = s.dropFirst(p.count) }
        return String(s)
    }

    /// Removes trees that may hold files of the user's subordinate ids
    /// (unpacked layers, writable layers): only inside the user namespace
    /// can the user delete those.
    public func removeTrees(_ dirs: [String]) throws {
        let existing = dirs.filter { Files.lstatMode($0) != nil }
        guard !existing.isEmpty else { return }
        let (status, _, err) = try Spawn.capture(coveFS, ["remove"] + existing)
        if status != .exited(0) {
            throw EngineError("cannot remove \(existing.joined(separator: " ")): "
                + (String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "\(status)"))
        }
    }
}
