import CoveImages
import CoveModel

extension ArchiveLoader {
    /// docker-archive: manifest.json lists Config, RepoTags and Layers by
    /// path. Layers named by path are hashed as they are stored; the
    /// manifest the store keeps for them is made here, in OCI form.
    func loadDocker(manifest: [UInt8], _ entries: ArchiveEntries, _ session: Session) throws -> [ImageRecord] {
        let archive = entries.path
        guard let items = try parseJSON(manifest, what: "manifest.json", in: archive).arrayValue, !items.isEmpty else {
            throw ImageError("manifest.json in \(archive) lists no images")
        }
        var wanted: [String: Wanted] = [:]
        var images: [(tags: [String], config: String, layers: [String])] = []
        for item in items {
            guard let config = item["Config"]?.stringValue, let layerJSON = item["Layers"]?.arrayValue else {
                throw ImageError("manifest.json in \(archive) has an entry without Config or Layers")
            }
            let layers = try layerJSON.map { l -> String in
                guard let s = l.stringValue else { throw ImageError("manifest.json in \(archive) has a layer that is not a path") }
                return entries.resolve(s)
            }
            let configPath = entries.resolve(config)
            guard let size = entries.sizes[configPath] else { throw ImageError("\(archive) lacks the config \(config)") }
            guard size <= Int64(ImageLimits.maxManifestSize) else {
                throw ImageError("config \(config) in \(archive) is \(size) bytes, over the 4 MiB limit: refused")
            }
            wanted[configPath] = Wanted(expected: digestInName(configPath), size: nil, what: "config \(config)")
            for l in layers { wanted[l] = Wanted(expected: digestInName(l), size: nil, what: "layer \(l)") }
            images.append(((item["RepoTags"]?.arrayValue ?? []).compactMap(\.stringValue), configPath, layers))
        }
        try ingest(wanted, from: archive, session)

        var records: [ImageRecord] = []
        for image in images {
            guard let config = session.stored[image.config] else { continue }
            let layers = try image.layers.map { path -> Layer in
                guard let s = session.stored[path] else { throw ImageError("\(archive) lacks the layer \(path)") }
                let magic = try store.prefix(s.digest, count: 4)
                return Layer(digest: s.digest, size: s.size, mediaType: MediaTypes.layerType(magic: magic))
            }
            let created = try verifyConfig(config.digest, layers: layers, archive: archive)
            let manifest = JSON.object([
                ("schemaVersion", .int(2)),
                ("mediaType", .string(MediaTypes.ociManifest)),
                ("config", descriptor(MediaTypes.ociConfig, config.digest, config.size)),
                ("layers", .array(layers.map { descriptor($0.mediaType, $0.digest, $0.size) })),
            ])
            let digest = try ingest(bytes: manifest.serializedBytes(), what: "manifest for \(image.config)", session)
            let size = config.size + layers.reduce(0) { $0 + $1.size }
            let names = image.tags.isEmpty ? [""] : image.tags.map(normalizedName)
            records += names.map {
                ImageRecord(name: $0, manifest: digest, config: config.digest, created: created, size: size)
            }
        }
        return records
    }

    /// `<hex>.json`, `<hex>.tar` or `blobs/sha256/<hex>`: a name that is a
    /// digest is checked as one. Others (`<id>/layer.tar`) are only hashed.
    func digestInName(_ path: String) -> Digest? {
        guard var base = path.split(separator: "/").last.map(String.init) else { return nil }
        for ext in [".json", ".tar"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
        return try? Digest(hex: base)
    }

    func descriptor(_ mediaType: String, _ digest: Digest, _ size: Int64) -> JSON {
        .object([("mediaType", .string(mediaType)), ("digest", .string(digest.description)), ("size", .int(size))])
    }
}
