import CArchive
#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveImages
import CoveModel

/// `cove import`: a root filesystem tarball (plain, gzip, zstd, xz, bzip2)
/// as a one-layer image. The tarball is read entry by entry with
/// libarchive and written out again as a plain tar: that proves it is a
/// whole tar archive before anything is stored, and the stored layer's
/// digest is its diff_id. Blobs this import created are taken back when it
/// fails; images.json changes only at the end.
public struct ImageImporter {
    public let store: ContentStore

    public init(store: ContentStore) { self.store = store }

    /// `source` is a path, or "-" for standard input. `name` nil leaves the
    /// image unnamed; a short name is local (`demo` → `localhost/demo:latest`).
    public func importTarball(_ source: String, name: String?, changes: ImageChanges, message: String?,
                              platform: Platform = .host) throws -> ImageRecord {
        let fullName = try name.map(Self.localName) ?? ""
        var created: [Digest] = []
        do {
            let record = try store.withLock(exclusive: false) { () throws -> ImageRecord in
                let layer = try storeLayer(from: source, created: &created)
                let now = Self.rfc3339Now()
                var history: [(String, JSON)] = [("created", .string(now)),
                                                  ("created_by", .string("/bin/sh -c #(nop) ADD file:\(layer.digest.hex) in /"))]
                if let message { history.append(("comment", .string(message))) }
                var platformFields: [(String, JSON)] = [("architecture", .string(platform.architecture)), ("os", .string(platform.os))]
                if let v = platform.variant { platformFields.append(("variant", .string(v))) }
                let config = JSON.object([("created", .string(now))] + platformFields + [
                    ("config", changes.configJSON),
                    ("rootfs", .object([("type", .string("layers")), ("diff_ids", .array([.string(layer.digest.description)]))])),
                    ("history", .array([.object(history)])),
                ])
                let c = try ingest(bytes: config.serializedBytes(), what: "the image config", created: &created)
                let manifest = JSON.object([
                    ("schemaVersion", .int(2)),
                    ("mediaType", .string(MediaTypes.ociManifest)),
                    ("config", Self.descriptor(MediaTypes.ociConfig, c.digest, c.size)),
                    ("layers", .array([Self.descriptor(MediaTypes.ociLayer, layer.digest, layer.size)])),
                ])
                let m = try ingest(bytes: manifest.serializedBytes(), what: "the image manifest", created: &created)
                return ImageRecord(name: fullName, manifest: m.digest, config: c.digest, created: now, size: c.size + layer.size)
            }
            try ImageIndex(store: store).put([record])
            return record
        } catch {
            let taken = created
            try? store.withLock(exclusive: false) { store.remove(taken) }
            throw error
        }
    }

    /// podman's naming of imported images: a name without a registry is
    /// local (`localhost/NAME`), and `:latest` is implied.
    public static func localName(_ text: String) throws -> String {
        let first = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let hasRegistry = text.contains("/") && (first.contains(".") || first.contains(":") || first == "localhost")
        let spelled = hasRegistry ? text : "localhost/" + text
        do { return try ImageReference(parsing: spelled).description } catch {
            throw ImageError("\(error): name the image like name[:tag], in lower case")
        }
    }

    /// Rewrites the tarball as a plain tar in the store's ingest directory,
    /// then stores it.
    func storeLayer(from source: String, created: inout [Digest]) throws -> ContentStore.Ingested {
        let what = source == "-" ? "standard input" : source
        let tmp = store.ingestDir + "/\(getpid())-import-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("create \(tmp)") }
        defer { close(fd); unlink(tmp) }
        try copyAsPlainTar(source, what: what, to: fd, tmp: tmp)
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw SyscallError("seek \(tmp)") }
        let r = try store.ingest(name: "the layer from \(what)", expected: nil, size: nil) { buf in
            let n = Glibc.read(fd, buf.baseAddress, buf.count)
            if n < 0 { throw SyscallError("read \(tmp)") }
            return n
        }
        if r.created { created.append(r.digest) }
        return r
    }

    func copyAsPlainTar(_ source: String, what: String, to fd: Int32, tmp: String) throws {
        guard let reader = archive_read_new() else { throw ImageError("import \(what): libarchive could not allocate a reader") }
        defer { archive_read_free(reader) }
        archive_read_support_format_tar(reader)
        archive_read_support_filter_all(reader)
        func readError() -> String { archive_error_string(reader).map { String(cString: $0) } ?? "unknown libarchive error" }
        let opened = source == "-" ? archive_read_open_fd(reader, 0, 1 << 16) : archive_read_open_filename(reader, source, 1 << 16)
        guard opened == ARCHIVE_OK else {
            let e = archive_errno(reader)
            throw ImageError("import \(what): " + (e > 0 && e < 1000 ? String(cString: strerror(e)) : readError()))
        }
        let writer = try TarWriter(fd: fd, what: tmp)
        var entries = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var entry: OpaquePointer?
            let r = archive_read_next_header(reader, &entry)
            if r == ARCHIVE_EOF { break }
            guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
                throw ImageError("import \(what): not a readable tar archive (\(readError())); "
                                 + "give a root filesystem as a tar file, plain or compressed with gzip, zstd, xz or bzip2")
            }
            entries += 1
            try writer.writeHeader(entry)
            while true {
                let n = buf.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
                if n < 0 {
                    throw ImageError("import \(what): the archive is damaged or truncated at \(archive_entry_pathname(entry).map { String(cString: $0) } ?? "an entry") (\(readError()))")
                }
                if n == 0 { break }
                try buf.withUnsafeBytes { try writer.writeData(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
        }
        guard entries > 0 else { throw ImageError("import \(what): the archive holds no files; give a root filesystem tarball") }
        try writer.finish()
    }

    func ingest(bytes: [UInt8], what: String, created: inout [Digest]) throws -> ContentStore.Ingested {
        let r = try store.ingest(bytes: bytes, name: what)
        if r.created { created.append(r.digest) }
        return r
    }

    static func descriptor(_ mediaType: String, _ digest: Digest, _ size: Int64) -> JSON {
        .object([("mediaType", .string(mediaType)), ("digest", .string(digest.description)), ("size", .int(size))])
    }

    /// Now in UTC, RFC 3339 with nanoseconds, as the Go tools write it.
    static func rfc3339Now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var utc = tm()
        gmtime_r(&t, &utc)
        func pad(_ v: Int32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        let nanos = String(ts.tv_nsec)
        return "\(pad(utc.tm_year + 1900, 4))-\(pad(utc.tm_mon + 1, 2))-\(pad(utc.tm_mday, 2))T"
            + "\(pad(utc.tm_hour, 2)):\(pad(utc.tm_min, 2)):\(pad(utc.tm_sec, 2))."
            + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
    }
}
