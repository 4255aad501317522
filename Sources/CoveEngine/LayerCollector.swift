#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux
import CoveModel

extension ContainerEngine {
    /// Removes unpacked layers that no image in the store and no container
    /// uses any more (a container keeps its layers after `rmi -f` of its
    /// image: they are named in its config.json). Returns how many went.
    @discardableResult
    public func collectUnusedLayers() throws -> Int {
        let store = try imageStore
        let cache = try LayerCache(paths: paths, store: store, helpers: helpers)
        return try cache.withLock(exclusive: true) { try collectUnusedLayers(cache, store) }
    }

    func collectUnusedLayers(_ cache: LayerCache, _ store: ContentStore) throws -> Int {
        var keep = Set<String>()
        for record in try ImageIndex(store: store).list() {
            // An image that cannot be opened hides which layers it needs:
            // keep everything rather than guess.
            guard let image = try? StoredImage(store: store, record: record) else { return 0 }
            for chain in LayerCache.chainIDs(image) { keep.insert(chain) }
        }
        for r in containers.list() {
            guard let bytes = try? Files.read(paths.container(r.id) + "/config.json"), let config = try? JSON.parse(bytes) else {
                continue
            }
            for m in config["mounts"]?.arrayValue ?? [] where m["destination"]?.stringValue == "/" {
                for o in m["options"]?.arrayValue?.compactMap(\.stringValue) ?? [] where o.hasPrefix("lowerdir=") {
                    for entry in o.dropFirst("lowerdir=".count).split(separator: ":").map(String.init) {
                        // l/N names a link, in the container's directory, to the layer.
                        let dir = entry.hasPrefix("/") ? entry
                            : Files.readLink(paths.container(r.id) + "/" + entry) ?? entry
                        keep.insert(String(dir.split(separator: "/").last ?? ""))
                    }
                }
            }
        }
        let names = (try? Files.listDirectory(paths.layers)) ?? []
        // Dot-files are cove-fs's own temporaries (it cleans those) and the
        // locks: a lock goes with its layer.
        let unusedNames = names.filter { !$0.hasPrefix(".") && !keep.contains($0) }
        let unused = unusedNames.map { paths.layers + "/" + $0 }
        defer { for n in unusedNames { unlink(paths.layers + "/." + n + ".lock") } }
        guard !unused.isEmpty else { return 0 }
        try cache.removeTrees(unused)
        return unused.count
    }

    /// Containers made from an image (its config digest).
    public func containersUsing(imageID: String) -> [ContainerRecord] {
        containers.list().filter { $0.imageID == imageID }
    }
}
