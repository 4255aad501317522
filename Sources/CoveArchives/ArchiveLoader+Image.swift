import CoveImages
import CoveModel

extension ArchiveLoader {
    /// A stored image's parts, before it is named in images.json.
    package struct Layer {
        package var digest: Digest
        package var size: Int64
        package var mediaType: String

        package init(digest: Digest, size: Int64, mediaType: String) {
            self.digest = digest; self.size = size; self.mediaType = mediaType
        }
    }

    /// Checks the config against the layers: as many diff_ids as layers,
    /// and an uncompressed layer's digest equal to its diff_id. Returns the
    /// config's `created`.
    package func verifyConfig(_ config: Digest, layers: [Layer], archive: String) throws -> String {
        let json = try parseJSON(try store.read(config, limit: ImageLimits.maxManifestSize), what: "config \(config)", in: archive)
        let diffIDs = try (json["rootfs"]?["diff_ids"]?.arrayValue ?? []).map { d -> Digest in
            guard let s = d.stringValue else { throw ImageError("config \(config) in \(archive) has a diff_id that is not a string") }
            return try Digest(parsing: s)
        }
        guard diffIDs.count == layers.count else {
            throw ImageError("config \(config) in \(archive) lists \(diffIDs.count) diff_ids for \(layers.count) layers")
        }
        for (layer, diffID) in zip(layers, diffIDs) where MediaTypes.isUncompressed(layer: layer.mediaType) {
            guard layer.digest == diffID else {
                throw ImageError("layer \(layer.digest) in \(archive) does not match its diff_id \(diffID) in config \(config)")
            }
        }
        return json["created"]?.stringValue ?? ""
    }

    /// A name as the user will see it: `busybox` → `docker.io/library/busybox:latest`.
    func normalizedName(_ name: String) -> String {
        (try? ImageReference(parsing: name))?.description ?? name
    }
}
