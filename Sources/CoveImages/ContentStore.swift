#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// A content-addressed blob store under `root`: `blobs/sha256/<hex>`.
///
/// Bytes are streamed into `ingest/<pid>-<random>` while hashed, checked
/// against the expected digest and size, synced, and only then linked into
/// place, so a blob in `blobs/` is always whole and verified. Ingest and
/// reads hold the store lock shared; garbage collection holds it exclusive.
/// The lock is a POSIX lock: it orders processes, not threads of one
/// process (those rely on link(2) being atomic).
public struct ContentStore: Sendable {
    public let root: String
    var blobDir: String { root + "/blobs/sha256" }
    var ingestDir: String { root + "/ingest" }
    package var lockPath: String { root + "/lock" }

    /// Opens (creating) the store and removes ingest files left by
    /// processes that are gone.
    public init(root: String) throws {
        self.root = root
        try Files.makeDirectories(root + "/blobs/sha256", mode: 0o700)
        try Files.makeDirectories(root + "/ingest", mode: 0o700)
        try Files.makeDirectories(root + "/partial", mode: 0o700)
        try withLock(exclusive: false) { removeStaleIngests(all: false) }
    }

    public func blobPath(_ digest: Digest) -> String { blobDir + "/" + digest.hex }
    public func contains(_ digest: Digest) -> Bool { Files.exists(blobPath(digest)) }

    /// Runs `body` holding the store lock. Not reentrant: closing a second
    /// fd on the lock file would drop the process's lock.
    public func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        let fd = exclusive ? try FileLock.acquire(lockPath) : try FileLock.acquireShared(lockPath)
        defer { close(fd) }
        return try body()
    }

    public func read(_ digest: Digest, limit: Int = 4 << 20) throws -> [UInt8] {
        do { return try Files.read(blobPath(digest), limit: limit) } catch let e as SyscallError where e.errno == EFBIG {
            throw ImageError("blob \(digest) is larger than \(limit) bytes")
        }
    }

    /// The first bytes of a blob (to tell a gzip layer from a plain tar).
    public func prefix(_ digest: Digest, count: Int) throws -> [UInt8] {
        let fd = open(blobPath(digest), O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open \(blobPath(digest))") }
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: count)
        let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, count) }
        if n < 0 { throw SyscallError("read \(blobPath(digest))") }
        return Array(buf[0..<n])
    }

    public struct Ingested: Sendable {
        public let digest: Digest
        public let size: Int64
        /// False when the blob was already in the store.
        public let created: Bool
    }

    /// Streams a blob in. `fill` writes into the buffer and returns the
    /// count, 0 at the end. With `expected` nil the computed digest is
    /// taken (a docker-archive layer named by path); `name` is how errors
    /// refer to the blob. Call with the lock held shared.
    public func ingest(name: String, expected: Digest?, size: Int64?,
                       from fill: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> Ingested {
        let tmp = ingestDir + "/\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("create \(tmp)") }
        defer { unlink(tmp) }
        var hasher = SHA256()
        var total: Int64 = 0
        do {
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try buf.withUnsafeMutableBytes { try fill($0) }
                if n == 0 { break }
                total += Int64(n)
                if let size, total > size { throw ImageError("blob \(name) is longer than its declared \(size) bytes") }
                buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                try Files.writeAll(fd: fd, Array(buf[0..<n]), what: tmp)
            }
            if let size, total != size {
                throw ImageError("blob \(name) is truncated: \(total) of \(size) bytes")
            }
            if fsync(fd) != 0 { throw SyscallError("fsync \(tmp)") }
        }
        let digest = try Digest(hex: SHA256.hexString(hasher.finalize()))
        if let expected, expected != digest {
            throw ImageError("blob \(name) does not match its digest: expected \(expected), got \(digest)")
        }
        // link, not rename: it fails when the blob is there already, so we
        // know whether this ingest created it (and may take it back).
        if link(tmp, blobPath(digest)) == 0 {
            // The new name must survive a crash as well as the bytes did.
            let dir = open(blobDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 { fsync(dir); close(dir) }
            return Ingested(digest: digest, size: total, created: true)
        }
        if errno == EEXIST { return Ingested(digest: digest, size: total, created: false) }
        throw SyscallError("link \(tmp) to \(blobPath(digest))")
    }

    /// Stores bytes held in memory (a fetched manifest, a synthesized
    /// config), checked against `expected` when given.
    public func ingest(bytes: [UInt8], name: String, expected: Digest? = nil) throws -> Ingested {
        var offset = 0
        return try ingest(name: name, expected: expected, size: Int64(bytes.count)) { buf in
            let n = min(buf.count, bytes.count - offset)
            bytes.withUnsafeBytes { src in buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<offset + n])) }
            offset += n
            return n
        }
    }

    /// Removes blobs (a failed load takes back what it created).
    public func remove(_ digests: [Digest]) {
        for d in digests { unlink(blobPath(d)) }
    }

    /// Removes blobs that no image in `keep` refers to, and every ingest
    /// and partial file; takes the lock exclusive. Returns the number of
    /// blobs removed.
    public func garbageCollect(keep: Set<Digest>) throws -> Int {
        try garbageCollect { keep }
    }

    /// The same, with `keep` worked out under the exclusive lock, so that
    /// nothing named meanwhile is taken.
    public func garbageCollect(keep computeKeep: () throws -> Set<Digest>) throws -> Int {
        try withLock(exclusive: true) { try collectLocked(computeKeep) }
    }

    /// The same only when no other cove command holds the store now (after
    /// a failed pull: its garbage goes, but it never waits on other pulls).
    public func garbageCollectIfIdle(keep computeKeep: () throws -> Set<Digest>) throws -> Int {
        guard let fd = try FileLock.tryAcquire(lockPath) else { return 0 }
        defer { close(fd) }
        return try collectLocked(computeKeep)
    }

    func collectLocked(_ computeKeep: () throws -> Set<Digest>) throws -> Int {
        let keep = try computeKeep()
        removeStaleIngests(all: true)
        removePartials()
        var removed = 0
        for name in try Files.listDirectory(blobDir) {
            guard let d = try? Digest(hex: name), keep.contains(d) else {
                if unlink(blobDir + "/" + name) == 0 { removed += 1 }
                continue
            }
        }
        return removed
    }

    /// Ingest files are named `<pid>-<random>`: one whose process is gone
    /// was left by a crash. With `all` (under the exclusive lock) none is live.
    func removeStaleIngests(all: Bool) {
        guard let names = try? Files.listDirectory(ingestDir) else { return }
        for name in names {
            if !all, let pid = Int32(name.prefix(while: { $0 != "-" })),
               pid == getpid() || kill(pid, 0) == 0 || errno == EPERM { continue }
            unlink(ingestDir + "/" + name)
        }
    }
}

