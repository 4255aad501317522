#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveImages
import CoveModel

/// Loads a docker-archive or an oci-archive (as `podman save` and
/// `skopeo copy` write them) into a content store, verifying every blob's
/// digest as it is stored. Uncompressed layers are checked against the
/// config's diff_ids here; a compressed layer's diff_id can only be checked
/// when it is unpacked, which is not done yet.
///
/// The archive is read in passes (metadata, then manifests, then blobs),
/// since a tar stream gives no way back. On failure every blob this load
/// created is removed again and images.json is not touched.
public struct ArchiveLoader {
    public let store: ContentStore

    public init(store: ContentStore) { self.store = store }

    /// A blob to take from the archive: its digest when known beforehand.
    struct Wanted {
        var expected: Digest?
        var size: Int64?
        var what: String
    }

    final class Session {
        var created: [Digest] = []
        var stored: [String: ContentStore.Ingested] = [:]
    }

    public func load(archive: String) throws -> [ImageRecord] {
        let session = Session()
        do {
            let records = try store.withLock(exclusive: false) { try loadUnlocked(archive, session) }
            try ImageIndex(store: store).put(records)
            return records
        } catch {
            try? store.withLock(exclusive: false) { store.remove(session.created) }
            throw error
        }
    }

    func loadUnlocked(_ archive: String, _ session: Session) throws -> [ImageRecord] {
        var top: [String: [UInt8]] = [:]
        var links: [String: String] = [:]
        var sizes: [String: Int64] = [:]
        let reader = try TarReader(archive)
        while let e = try reader.next() {
            if let t = e.linkTarget {
                let dir = e.path.split(separator: "/").dropLast().joined(separator: "/")
                links[e.path] = TarReader.clean(t.hasPrefix("/") ? t : dir + "/" + t)
            }
            guard e.isRegular else { continue }
            sizes[e.path] = e.size
            if ["manifest.json", "index.json", "oci-layout"].contains(e.path) {
                top[e.path] = try reader.readAll(limit: ImageLimits.maxManifestSize, what: e.path)
            }
        }
        let entries = ArchiveEntries(path: archive, sizes: sizes, links: links)
        if let index = top["index.json"] {
            return try loadOCI(index: index, entries, session)
        }
        if let manifest = top["manifest.json"] {
            return try loadDocker(manifest: manifest, entries, session)
        }
        throw ImageError("\(archive) is neither a docker-archive (no manifest.json) nor an oci-archive (no index.json)")
    }

    /// Reads the archive once more and stores the wanted entries.
    func ingest(_ wanted: [String: Wanted], from archive: String, _ session: Session) throws {
        let reader = try TarReader(archive)
        var missing = Set(wanted.keys.filter { session.stored[$0] == nil })
        while !missing.isEmpty, let e = try reader.next() {
            guard e.isRegular, missing.contains(e.path), let w = wanted[e.path] else { continue }
            let r = try store.ingest(name: w.what, expected: w.expected, size: w.size ?? e.size) { buf in
                do { return try reader.read(into: buf) } catch {
                    throw ImageError("\(w.what): \(error)")
                }
            }
            if r.created { session.created.append(r.digest) }
            session.stored[e.path] = r
            missing.remove(e.path)
        }
        if let first = missing.sorted().first {
            throw ImageError("\(archive) lacks \(first) (\(wanted[first]?.what ?? "")): the archive is incomplete")
        }
    }

    /// Stores bytes made here (a docker-archive's synthesized manifest).
    func ingest(bytes: [UInt8], what: String, _ session: Session) throws -> Digest {
        let r = try store.ingest(bytes: bytes, name: what)
        if r.created { session.created.append(r.digest) }
        return r.digest
    }

    func parseJSON(_ bytes: [UInt8], what: String, in archive: String) throws -> JSON {
        do { return try JSON.parse(bytes) } catch {
            throw ImageError("\(what) in \(archive) is not valid JSON: \(error)")
        }
    }
}

struct ArchiveEntries {
    let path: String
    let sizes: [String: Int64]
    let links: [String: String]

    /// An entry's name after following symbolic links (a few hops at most).
    func resolve(_ name: String) -> String {
        var n = TarReader.clean(name)
        for _ in 0..<8 { guard let t = links[n] else { break }; n = t }
        return n
    }
}
