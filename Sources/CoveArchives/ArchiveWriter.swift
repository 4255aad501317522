#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveImages
import CoveModel

/// `cove save`: images from the store as a docker-archive or an
/// oci-archive, the files `podman load`, `docker load` and `skopeo` read.
/// The archive is written to a temporary name beside the target and
/// renamed into place once whole, so a failed save leaves no half file.
public struct ArchiveWriter {
    public enum Format: String, CaseIterable, Sendable {
        case dockerArchive = "docker-archive"
        case ociArchive = "oci-archive"
    }

    public let store: ContentStore

    public init(store: ContentStore) { self.store = store }

    public func save(_ records: [ImageRecord], format: Format, to path: String) throws {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let tmp = dir + "/.\(base).cove-\(getpid())-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw ImageError("save: cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var done = false
        defer { if !done { unlink(tmp) } }
        do {
            defer { close(fd) }
            let writer = try TarWriter(fd: fd, what: path)
            // Shared: garbage collection (exclusive) must not take blobs
            // from under the copy.
            try store.withLock(exclusive: false) {
                let images = try records.map { try StoredImage(store: store, record: $0) }
                switch format {
                case .dockerArchive: try writeDocker(images, writer)
                case .ociArchive: try writeOCI(images, writer)
                }
            }
            try writer.finish()
            if fsync(fd) != 0 { throw ImageError("save: fsync \(tmp): \(String(cString: strerror(errno)))") }
        }
        if rename(tmp, path) != 0 { throw ImageError("save: rename \(tmp) to \(path): \(String(cString: strerror(errno)))") }
        done = true
    }

    /// docker-archive: manifest.json, `<config hex>.json`, and each layer
    /// uncompressed as `<diff_id hex>.tar` (docker load reads only those).
    func writeDocker(_ images: [StoredImage], _ w: TarWriter) throws {
        let manifest = JSON.array(images.map { image in
            .object([
                ("Config", .string(image.record.config.hex + ".json")),
                ("RepoTags", .array(image.record.name.isEmpty ? [] : [.string(image.record.name)])),
                ("Layers", .array(image.layers.map { .string($0.diffID.hex + ".tar") })),
            ])
        })
        try w.add(name: "manifest.json", bytes: manifest.serializedBytes())
        var written = Set<String>()
        for image in images {
            let configName = image.record.config.hex + ".json"
            if written.insert(configName).inserted {
                try w.add(name: configName, file: store.blobPath(image.record.config))
            }
            for layer in image.layers {
                guard written.insert(layer.diffID.hex + ".tar").inserted else { continue }
                if MediaTypes.isUncompressed(layer: layer.mediaType) || layer.digest == layer.diffID {
                    try w.add(name: layer.diffID.hex + ".tar", file: store.blobPath(layer.digest))
                } else {
                    let plain = try decompress(layer)
                    defer { unlink(plain) }
                    try w.add(name: layer.diffID.hex + ".tar", file: plain)
                }
            }
        }
    }

    /// oci-archive: oci-layout, index.json naming each manifest (with the
    /// image's name in `org.opencontainers.image.ref.name`, as podman
    /// writes it), and the blobs as stored.
    func writeOCI(_ images: [StoredImage], _ w: TarWriter) throws {
        try w.add(name: "oci-layout", bytes: Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8))
        let descriptors = try images.map { image -> JSON in
            let bytes = try store.read(image.record.manifest, limit: ImageLimits.maxManifestSize)
            let mediaType = (try? JSON.parse(bytes))?["mediaType"]?.stringValue ?? MediaTypes.ociManifest
            var fields: [(String, JSON)] = [("mediaType", .string(mediaType)),
                                            ("digest", .string(image.record.manifest.description)),
                                            ("size", .int(bytes.count))]
            if !image.record.name.isEmpty {
                fields.append(("annotations", .object([("org.opencontainers.image.ref.name", .string(image.record.name))])))
            }
            return .object(fields)
        }
        let index = JSON.object([("schemaVersion", .int(2)), ("manifests", .array(descriptors))])
        try w.add(name: "index.json", bytes: index.serializedBytes())
        try w.addDirectory(name: "blobs/")
        try w.addDirectory(name: "blobs/sha256/")
        var written = Set<Digest>()
        for image in images {
            for d in [image.record.manifest, image.record.config] + image.layers.map(\.digest) {
                guard written.insert(d).inserted else { continue }
                try w.add(name: "blobs/sha256/" + d.hex, file: store.blobPath(d))
            }
        }
    }

    /// A compressed layer's tar, in the store's ingest directory, checked
    /// against its diff_id.
    func decompress(_ layer: StoredImage.Layer) throws -> String {
        let tmp = store.ingestDir + "/\(getpid())-save-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("create \(tmp)") }
        defer { close(fd) }
        do {
            let reader = try DecompressingReader(store.blobPath(layer.digest))
            var hasher = SHA256()
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try buf.withUnsafeMutableBytes { try reader.read(into: $0) }
                if n == 0 { break }
                buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                try Files.writeAll(fd: fd, Array(buf[0..<n]), what: tmp)
            }
            let got = SHA256.hexString(hasher.finalize())
            guard got == layer.diffID.hex else {
                throw ImageError("layer \(layer.digest) does not match its diff_id \(layer.diffID) (got sha256:\(got)): "
                                 + "the store is damaged; remove the image and pull or load it again")
            }
            return tmp
        } catch {
            unlink(tmp)
            throw error
        }
    }
}
