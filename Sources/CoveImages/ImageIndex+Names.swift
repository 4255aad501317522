import CoveLinux
import CoveModel

/// Finding, renaming and removing images by name or ID, and the garbage
/// collection that follows a removal.
extension ImageIndex {
    /// The records `text` names: a name (`alpine` is
    /// `docker.io/library/alpine:latest`, else `localhost/alpine:latest`),
    /// a config digest, or an ID prefix
    /// of at least 3 hex digits shared by no other image.
    public func lookup(_ text: String) throws -> [ImageRecord] {
        try store.withLock(exclusive: false) { try Self.match(text, in: try readUnlocked()) }
    }

    static func match(_ text: String, in all: [ImageRecord]) throws -> [ImageRecord] {
        // A name in full is its own normal form: no parse needed.
        if !text.isEmpty, let r = all.first(where: { $0.name == text }) { return [r] }
        // Nor is one in full but for its tag (registry/repo): its normal
        // form is the name with :latest, stored names having a registry.
        if let slash = text.firstIndex(of: "/"), !text[slash...].contains(":"), !text.contains("@") {
            let tagged = text + ":latest"
            if let r = all.first(where: { $0.name == tagged }) { return [r] }
        }
        let name = (try? ImageReference(parsing: text))?.description
        if let name, let r = all.first(where: { $0.name == name || $0.name == text }) { return [r] }
        // podman: images made here (import, tag) are named localhost/NAME.
        if name != nil, let local = try? ImageReference(parsing: "localhost/" + text).description,
           let r = all.first(where: { $0.name == local }) { return [r] }
        var hex = Substring(text)
        if hex.hasPrefix("sha256:") { hex = hex.dropFirst(7) }
        guard hex.count >= 3, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return [] }
        let byID = all.filter { $0.config.hex.hasPrefix(hex) }
        if Set(byID.map(\.config)).count > 1 {
            throw ImageError("the ID \(text) is ambiguous: it begins \(Set(byID.map(\.config)).count) images; give more digits")
        }
        return byID
    }

    /// The named records of one image (its config digest).
    public func namesOf(_ config: Digest) -> [ImageRecord] {
        ((try? list()) ?? []).filter { $0.config == config }
    }

    /// Names `record`'s image `name` as well (`cove tag`).
    public func tag(_ record: ImageRecord, as name: String) throws -> ImageRecord {
        let normalized: String
        do { normalized = try ImageReference(parsing: name).description } catch { throw ImageError("\(error)") }
        var r = record
        r.name = normalized
        try put([r])
        return r
    }

    /// Removes records (by name, or the unnamed by manifest) in one rewrite.
    public func remove(_ records: [ImageRecord]) throws {
        try store.withLock(exclusive: true) {
            let all = try readUnlocked()
            try writeUnlocked(all.filter { r in !records.contains { $0.name == r.name && $0.manifest == r.manifest } })
        }
    }

    /// Removes every blob no record refers to (manifest, config, layers),
    /// working the set out under the store's exclusive lock. Returns the
    /// number of blobs removed.
    public func collectGarbage() throws -> Int {
        try store.garbageCollect { try keepSet() }
    }

    /// As collectGarbage, only when the store is idle now: never waits.
    public func collectGarbageIfIdle() throws -> Int {
        try store.garbageCollectIfIdle { try keepSet() }
    }

    /// Every blob an image in images.json refers to. Call under the lock.
    func keepSet() throws -> Set<Digest> {
        var keep = Set<Digest>()
        for r in try readUnlocked() {
            keep.insert(r.manifest)
            keep.insert(r.config)
            // A manifest we cannot read hides which layers to keep:
            // better to remove nothing.
            guard let bytes = try? store.read(r.manifest), let json = try? JSON.parse(bytes) else {
                throw ImageError("cannot read the manifest \(r.manifest) of \(r.name.isEmpty ? r.config.shortID : r.name): "
                                 + "nothing was garbage-collected; remove that image with `cove rmi -f`")
            }
            for l in json["layers"]?.arrayValue ?? [] {
                if let d = l["digest"]?.stringValue, let digest = try? Digest(parsing: d) { keep.insert(digest) }
            }
        }
        return keep
    }
}
