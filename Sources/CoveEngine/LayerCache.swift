#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux
import CoveModel

/// Unpacked layers, one directory per chain ID under `<root>/layers`, made
/// by `cove-fs unpack` inside a user namespace with the user's mapping.
/// cove-fs writes each into a temporary name and renames it into place, so
/// a directory here is always whole; a lock per layer keeps two commands
/// from unpacking the same layer at once. The key is the chain ID (the
/// OCI image spec's: a digest over the diff_ids from the bottom up), not
/// the diff_id: what an unpack writes depends on the layers below (a
/// whiteout under a directory no lower layer has is dropped; implicit
/// parents take the lower layers' owners), so one tar over two bases is
/// two directories.
public struct LayerCache: LayerUnpacker {
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

    /// The cache's lock: held shared by a container's creation from its
    /// unpack until its config.json names the layers, exclusive by the
    /// collector, so it never takes layers a creation is about to use.
    public func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = exclusive ? try FileLock.acquire(directory + "/.lock") : try FileLock.acquireShared(directory + "/.lock")
        defer { close(fd) }
        return try body()
    }

    /// The chain IDs of an image's layers, bottom first: ChainID(L0) =
    /// DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
    public static func chainIDs(_ image: StoredImage) -> [String] { chainIDs(image.layers.map(\.diffID)) }

    static func chainIDs(_ diffIDs: [Digest]) -> [String] {
        var out: [String] = []
        for diffID in diffIDs {
            guard let below = out.last else { out.append(diffID.hex); continue }
            out.append(SHA256.hex(Array("sha256:\(below) \(diffID)".utf8)))
        }
        return out
    }

    /// The image's layer directories, bottom first, unpacking what is missing
    /// (a pull has usually unpacked them all already).
    public func unpack(_ image: StoredImage) throws -> [String] {
        let layers = image.layers.map { UnpackLayer(digest: $0.digest, diffID: $0.diffID) }
        let chains = Self.chainIDs(layers.map(\.diffID))
        return try layers.indices.map { try unpack(layers, chains: chains, index: $0, image: image.record.name) }
    }

    public func lockShared() throws -> Int32 { try FileLock.acquireShared(directory + "/.lock") }

    /// For `cove pull`: layer `index`, those below it unpacked already.
    public func unpack(_ layers: [UnpackLayer], index: Int, image: String) throws {
        _ = try unpack(layers, chains: Self.chainIDs(layers.map(\.diffID)), index: index, image: image)
    }

    /// Layer `index`'s directory, unpacked if missing; `chains` are the
    /// layers' chain IDs and the directories below `index` exist.
    func unpack(_ layers: [UnpackLayer], chains: [String], index: Int, image: String) throws -> String {
        let layer = layers[index], chain = chains[index]
        let dir = directory + "/" + chain
        if Files.isDirectory(dir) { return dir }
        // Lock files stay: unlinking one would let a second waiter lock a
        // new file while the first still holds the old.
        let lock = try FileLock.acquire(directory + "/." + chain + ".lock")
        defer { close(lock) }
        if Files.isDirectory(dir) { return dir }
        var args = ["unpack", "--blob", store.blobPath(layer.digest), "--diff-id", layer.diffID.description, "--into", dir]
        for lower in chains[..<index].reversed() { args += ["--lower", directory + "/" + lower] }
        let (status, _, err) = try Spawn.capture(coveFS, args)
        if status != .exited(0) || !Files.isDirectory(dir) {
            let why = String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init)
                ?? "cove-fs unpack \(status)"
            throw EngineError("cannot unpack layer \(layer.digest) of \(image): " + LayerCache.stripPrefixes(why))
        }
        return dir
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
