#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveArchives
import CoveImages
import CoveModel
import Synchronization

/// What a pull reports as it goes, for a progress display.
public enum PullEvent: Sendable {
    public enum Kind: String, Sendable { case config, layer }
    /// The manifest chosen (from an index, for `platform`).
    case resolved(manifest: Digest, platform: Platform?)
    case started(Kind, Digest, size: Int64, resumedFrom: Int64)
    /// Another process is fetching this blob; we wait for it.
    case waiting(Kind, Digest, size: Int64)
    case progress(Digest, bytes: Int64)
    /// Stored; `skipped` when it was in the store already.
    case done(Kind, Digest, skipped: Bool)
    case writingManifest
    /// Something the user should know that does not stop the pull.
    case warning(String)
}

public struct PullResult: Sendable {
    public let record: ImageRecord
    /// Blobs this pull put in the store (not those it found there).
    public let fetched: Int
}

/// `cove pull`: resolves a reference to a manifest (picking `platform`
/// from an index), fetches the config and the layers (`parallel` at once)
/// into the content store with every byte verified, and names the image in
/// images.json as `cove load` does. The blobs stay as the registry serves
/// them (gzip, zstd or plain tar); with an `unpacker`, each layer is also
/// unpacked as soon as its blob (and the layer below) is in, so the image is
/// ready to run when the pull ends and the unpacks overlap the downloads.
///
/// The store lock is held shared for the whole fetch. A failure of the
/// content (a digest that does not match, a manifest refused) takes back
/// every blob this pull created, so the store is as before; a failure of
/// the connection keeps them, and the partial download of the blob in
/// flight, for the next pull to continue.
public struct Puller: Sendable {
    public let store: ContentStore
    public var platform: Platform
    public var tlsVerify: Bool
    /// The insecure-registries setting (podman's registries.conf).
    public var registries: RegistriesConf = .standard()
    public var authFile: AuthFile
    public var parallel: Int
    /// Unpacks the layers during the pull (nil: left to `cove create`).
    public var unpacker: (any LayerUnpacker)?

    /// How long to wait for another process's download of the same blob
    /// to make progress before giving up on it.
    static let stallLimit: Duration = .seconds(120)

    public init(store: ContentStore, platform: Platform = .host, tlsVerify: Bool = true,
                authFile: AuthFile = .standard(), parallel: Int = 3) {
        self.store = store; self.platform = platform; self.tlsVerify = tlsVerify
        self.authFile = authFile; self.parallel = max(1, parallel)
    }

    final class Created: Sendable {
        let digests = Mutex<[Digest]>([])
        func add(_ d: Digest) { digests.withLock { $0.append(d) } }
        var all: [Digest] { digests.withLock { $0 } }
    }

    public func pull(_ text: String, progress: @escaping @Sendable (PullEvent) -> Void) async throws -> PullResult {
        let ref: ImageReference
        do { ref = try ImageReference(parsing: text) } catch { throw ImageError("\(error)") }
        let credentials = try authFile.credentials(registry: ref.registry, repository: ref.repository)
        // --tls-verify=false, or the registry listed insecure in registries.conf.
        let verify = tlsVerify && !registries.isInsecure(ref.registry)
        let client = RegistryClient(endpoint: RegistryEndpoint(registry: ref.registry, tlsVerify: verify),
                                    credentials: credentials)
        let created = Created()
        let lock: Int32
        // The layer cache's lock first (held until the image is named: the
        // collector must not take layers no image names yet), then the
        // store's, in the order `cove create` takes them.
        var cacheLock: Int32 = -1
        do {
            if let unpacker { cacheLock = try unpacker.lockShared() }
            lock = try FileLock.acquireShared(store.lockPath)
        } catch {
            if cacheLock >= 0 { close(cacheLock) }
            await client.shutdown()
            throw error
        }
        defer { if cacheLock >= 0 { close(cacheLock) } }
        do {
            let record = try await pullLocked(ref, client, created, progress)
            await client.shutdown()
            progress(.writingManifest)
            // Named before the shared lock goes: a garbage collection waiting
            // for its exclusive lock must find the new image in images.json.
            // put() upgrades this process's POSIX lock; two pulls upgrading
            // at once get EDEADLK from the kernel for one of them: retry.
            for attempt in 0... {
                do { try ImageIndex(store: store).put([record]); break } catch let e as SyscallError
                    where e.errno == EDEADLK && attempt < 1000 {
                    usleep(5_000)
                }
            }
            close(lock)
            return PullResult(record: record, fetched: created.all.count)
        } catch {
            close(lock)
            await client.shutdown()
            // Bad content: what this pull stored is garbage now, unless
            // another pull named it meanwhile; the collector works that out
            // under the exclusive lock (skipped when other commands run: a
            // later one collects). A broken connection keeps everything,
            // partial download included, for the next pull to continue.
            if !(error is TransportFailure) { _ = try? ImageIndex(store: store).collectGarbageIfIdle() }
            throw error
        }
    }

    func pullLocked(_ ref: ImageReference, _ client: RegistryClient, _ created: Created,
                    _ progress: @escaping @Sendable (PullEvent) -> Void) async throws -> ImageRecord {
        let image = ref.description
        let repo = ref.repository
        var manifest = try await client.manifest(repository: repo, reference: ref.digest ?? ref.tag ?? "latest",
                                                 image: image)
        var chosen: Platform?
        if MediaTypes.indexes.contains(manifest.mediaType) {
            let (entry, p) = try choose(from: manifest, image: image)
            manifest = try await client.manifest(repository: repo, reference: entry.description, image: image)
            chosen = p
            guard MediaTypes.manifests.contains(manifest.mediaType) else {
                throw ImageError("the \(p) entry of the index of \(image) is a \(manifest.mediaType), not an image manifest")
            }
        }
        progress(.resolved(manifest: manifest.digest, platform: chosen))

        let json: JSON
        do { json = try JSON.parse(manifest.bytes) } catch {
            throw ImageError("manifest \(manifest.digest) of \(image) is not valid JSON (\(error))")
        }
        let (config, layers) = try Descriptor.manifestParts(json, digest: manifest.digest, in: image, place: "of \(image)")

        try await fetch(config, .config, ref, client, created, progress)
        // Bounded parallelism: `parallel` fetches in flight, the next
        // starting as one ends. A layer listed twice is fetched once.
        var seen = Set<Digest>()
        let unique = layers.filter { seen.insert($0.digest).inserted }
        let plan = unpacker.flatMap { u in unpackPlan(config: config.digest, layers: layers).map { (u, $0) } }
        let (ready, arrived) = AsyncStream.makeStream(of: Digest.self)
        try await withThrowingTaskGroup(of: Void.self) { outer in
            defer { arrived.finish() }
            if case let (u, plan)? = plan {
                outer.addTask { await Self.unpackInOrder(u, plan, ready: ready, image: image, progress: progress) }
            }
            try await withThrowingTaskGroup(of: Digest.self) { group in
                var next = 0
                for _ in 0..<min(parallel, unique.count) {
                    let l = unique[next]; next += 1
                    group.addTask { try await fetch(l, .layer, ref, client, created, progress); return l.digest }
                }
                while let d = try await group.next() {
                    arrived.yield(d)
                    if next < unique.count {
                        let l = unique[next]; next += 1
                        group.addTask { try await fetch(l, .layer, ref, client, created, progress); return l.digest }
                    }
                }
            }
            arrived.finish()
            try await outer.waitForAll()
        }

        if chosen == nil, let cfg = try? JSON.parse(try store.read(config.digest)),
           let os = cfg["os"]?.stringValue, let arch = cfg["architecture"]?.stringValue {
            // A single-platform image: podman pulls it whatever it is, and warns.
            let offered = Platform(os: os, architecture: arch, variant: cfg["variant"]?.stringValue)
            if !platform.matches(offered) && !offered.matches(platform) {
                progress(.warning("image platform (\(offered)) does not match the expected platform (\(platform))"))
            }
        }
        let stored = layers.map { ArchiveLoader.Layer(digest: $0.digest, size: $0.size, mediaType: $0.mediaType) }
        let createdAt = try ArchiveLoader(store: store).verifyConfig(config.digest, layers: stored, archive: image)
        let m = try ingest(manifest.bytes, expected: manifest.digest, what: "manifest \(manifest.digest) of \(image)")
        if m.created { created.add(m.digest) }
        return ImageRecord(name: image, manifest: manifest.digest, config: config.digest, created: createdAt,
                           size: config.size + layers.reduce(0) { $0 + $1.size })
    }

    /// The index entry for `platform`, or one line saying what is offered.
    func choose(from index: RegistryClient.FetchedManifest, image: String) throws -> (Digest, Platform) {
        let json: JSON
        do { json = try JSON.parse(index.bytes) } catch {
            throw ImageError("the index \(index.digest) of \(image) is not valid JSON (\(error))")
        }
        var entries: [(platform: Platform?, item: (Descriptor, Platform?))] = []
        for e in json["manifests"]?.arrayValue ?? [] {
            let d = try Descriptor(e, what: "manifest", in: image)
            let p = Platform(json: e["platform"])
            entries.append((p, (d, p)))
        }
        guard let (d, p) = platform.select(entries), let p else {
            let offered = entries.compactMap { $0.platform?.description }
            throw ImageError("\(image) has no image for \(platform): it offers "
                             + (offered.isEmpty ? "none" : offered.joined(separator: ", "))
                             + "; choose one with --platform")
        }
        guard d.mediaType.isEmpty || MediaTypes.manifests.contains(d.mediaType) else {
            throw ImageError("unsupported media type \"\(d.mediaType)\" for manifest \(d.digest) of \(image)")
        }
        guard d.size <= Int64(ImageLimits.maxManifestSize) else {
            throw ImageError("manifest \(d.digest) of \(image) is \(d.size) bytes, over the 4 MiB limit: refused")
        }
        return (d.digest, p)
    }

    /// One blob into the store: skipped when there, waited for when
    /// another process fetches it, else fetched (continuing a partial one).
    func fetch(_ d: Descriptor, _ kind: PullEvent.Kind, _ ref: ImageReference, _ client: RegistryClient,
               _ created: Created, _ progress: @escaping @Sendable (PullEvent) -> Void) async throws {
        let name = "\(kind) \(d.digest) of \(ref)"
        let clock = ContinuousClock()
        var lastBytes: Int64 = -1
        var lastChange = clock.now
        var announced = false
        // 100 ms turns while another process holds the blob: bounded by its
        // progress (stallLimit) and, in count, by an hour of turns.
        for _ in 0..<36_000 {
            switch try store.openPartial(d.digest, size: d.size, name: name) {
            case .inStore:
                progress(.done(kind, d.digest, skipped: !announced))
                return
            case .busy(let bytes):
                if !announced { progress(.waiting(kind, d.digest, size: d.size)); announced = true }
                if bytes != lastBytes { lastBytes = bytes; lastChange = clock.now; progress(.progress(d.digest, bytes: bytes)) }
                if clock.now - lastChange > Self.stallLimit {
                    throw ImageError("\(name) is being fetched by another cove process that made no progress for "
                                     + "\(Self.stallLimit): stop that pull, or remove \(store.partialDir)/\(d.digest.hex)")
                }
                try await Task.sleep(for: .milliseconds(100))
            case .opened(let partial):
                progress(.started(kind, d.digest, size: d.size, resumedFrom: partial.resumedFrom))
                do {
                    try await client.fetchBlob(repository: ref.repository, into: partial, image: ref.description) {
                        progress(.progress(d.digest, bytes: $0))
                    }
                    if try partial.commit() { created.add(d.digest) }
                } catch {
                    // A broken connection keeps the bytes for the next pull;
                    // bad content, or a sibling's failure that cancelled us,
                    // leaves nothing behind.
                    if error is TransportFailure && !Task.isCancelled { partial.release() } else { partial.discard() }
                    throw error
                }
                progress(.done(kind, d.digest, skipped: false))
                return
            }
        }
        throw ImageError("gave up waiting for another cove process to fetch \(name)")
    }

    func ingest(_ bytes: [UInt8], expected: Digest, what: String) throws -> ContentStore.Ingested {
        try store.ingest(bytes: bytes, name: what, expected: expected)
    }
}
