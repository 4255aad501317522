import CoveImages
import CoveModel

extension ArchiveLoader {
    /// oci-archive: index.json names manifests; blobs are `blobs/sha256/<hex>`.
    func loadOCI(index: [UInt8], _ entries: ArchiveEntries, _ session: Session) throws -> [ImageRecord] {
        let archive = entries.path
        let json = try parseJSON(index, what: "index.json", in: archive)
        guard let descriptors = json["manifests"]?.arrayValue, !descriptors.isEmpty else {
            throw ImageError("index.json in \(archive) lists no manifests")
        }
        var named: [(name: String, manifest: Descriptor)] = []
        for d in descriptors {
            let desc = try Descriptor(d, what: "manifest", in: archive)
            guard MediaTypes.manifests.contains(desc.mediaType) else {
                throw ImageError("unsupported media type \"\(desc.mediaType)\" for manifest \(desc.digest) in \(archive)"
                    + (desc.mediaType == MediaTypes.ociIndex || desc.mediaType == MediaTypes.dockerList
                        ? ": multi-platform archives are not supported yet" : ""))
            }
            guard desc.size <= Int64(ImageLimits.maxManifestSize) else {
                throw ImageError("manifest \(desc.digest) in \(archive) is \(desc.size) bytes, over the 4 MiB limit: refused")
            }
            let ann = d["annotations"]
            let name = ann?["io.containerd.image.name"]?.stringValue
                ?? ann?["org.opencontainers.image.ref.name"]?.stringValue ?? ""
            named.append((name, desc))
        }
        try ingest(Dictionary(named.map { (blobEntry($0.manifest.digest, entries),
                                           Wanted(expected: $0.manifest.digest, size: $0.manifest.size,
                                                  what: "manifest \($0.manifest.digest)")) },
                              uniquingKeysWith: { a, _ in a }), from: archive, session)

        var images: [(name: String, manifest: Digest, config: Descriptor, layers: [Descriptor])] = []
        var wanted: [String: Wanted] = [:]
        for (name, m) in named {
            let mj = try parseJSON(try store.read(m.digest, limit: ImageLimits.maxManifestSize), what: "manifest \(m.digest)", in: archive)
            let (config, layers) = try Descriptor.manifestParts(mj, digest: m.digest, in: archive, place: "in \(archive)")
            for d in [config] + layers {
                wanted[blobEntry(d.digest, entries)] = Wanted(expected: d.digest, size: d.size, what: "\(d.digest)")
            }
            images.append((name, m.digest, config, layers))
        }
        try ingest(wanted, from: archive, session)

        return try images.map { image in
            let layers = image.layers.map { Layer(digest: $0.digest, size: $0.size, mediaType: $0.mediaType) }
            let created = try verifyConfig(image.config.digest, layers: layers, archive: archive)
            // A bare tag in ref.name (skopeo writes one) names no repository.
            let name = image.name.contains("/") || image.name.contains(":") ? normalizedName(image.name) : ""
            return ImageRecord(name: name, manifest: image.manifest, config: image.config.digest, created: created,
                               size: image.config.size + layers.reduce(0) { $0 + $1.size })
        }
    }

    func blobEntry(_ digest: Digest, _ entries: ArchiveEntries) -> String {
        entries.resolve("blobs/sha256/" + digest.hex)
    }
}

/// An OCI content descriptor: media type, digest, size.
package struct Descriptor {
    package var mediaType: String
    package var digest: Digest
    package var size: Int64

    package init(_ json: JSON, what: String, in archive: String) throws {
        guard let d = json["digest"]?.stringValue, let size = json["size"]?.int64Value, size >= 0 else {
            throw ImageError("a \(what) descriptor in \(archive) lacks a digest or size")
        }
        digest = try Digest(parsing: d)
        self.size = size
        mediaType = json["mediaType"]?.stringValue ?? ""
    }
}

extension Descriptor {
    /// An image manifest's config and layers, refused unless their media
    /// types are known and the config is within the manifest limit.
    /// `source` names the archive or image for Descriptor's own errors;
    /// `place` ("in ARCHIVE", "of IMAGE") goes into the messages.
    package static func manifestParts(_ manifest: JSON, digest: Digest, in source: String,
                                      place: String) throws -> (config: Descriptor, layers: [Descriptor]) {
        guard let cj = manifest["config"] else { throw ImageError("manifest \(digest) \(place) has no config") }
        let config = try Descriptor(cj, what: "config", in: source)
        guard MediaTypes.configs.contains(config.mediaType) else {
            throw ImageError("unsupported media type \"\(config.mediaType)\" for config \(config.digest) \(place)")
        }
        guard config.size <= Int64(ImageLimits.maxManifestSize) else {
            throw ImageError("config \(config.digest) \(place) is \(config.size) bytes, over the 4 MiB limit: refused")
        }
        let layers = try (manifest["layers"]?.arrayValue ?? []).map { try Descriptor($0, what: "layer", in: source) }
        for l in layers where !MediaTypes.layers.contains(l.mediaType) {
            throw ImageError("unsupported media type \"\(l.mediaType)\" for layer \(l.digest) \(place)")
        }
        return (config, layers)
    }
}
