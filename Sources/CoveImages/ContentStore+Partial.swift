#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Downloads that survive an interruption: `partial/<hex>` holds the bytes
/// of a blob fetched so far, under an flock(2) of its own, so that a pull
/// killed halfway continues where it stopped and two pulls of one blob at
/// once take turns instead of writing into each other. Whatever is in a
/// partial file is hashed again when it is reopened: it is never trusted.
///
/// flock, not the store's POSIX lock: flock belongs to the open file, so
/// closing some other fd on the same file does not drop it, and two opens
/// in one process exclude each other too.
extension ContentStore {
    package var partialDir: String { root + "/partial" }

    public enum PartialOpening {
        /// The blob is in the store already: nothing to fetch.
        case inStore
        /// Another process is fetching it; `bytes` is how far it got.
        case busy(bytes: Int64)
        case opened(PartialBlob)
    }

    /// Opens (creating) the partial file of `digest` and locks it. Call
    /// with the store lock held shared (a pull holds it for its whole run).
    public func openPartial(_ digest: Digest, size: Int64, name: String) throws -> PartialOpening {
        let path = partialDir + "/" + digest.hex
        if contains(digest) {
            removeLeftoverPartial(path)
            return .inStore
        }
        // The holder before us may have finished and unlinked the file
        // between our open and our lock: then the inode we locked is no
        // longer the one at `path`, and we open again.
        for _ in 0..<8 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            if fd < 0 { throw SyscallError("open \(path)") }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let e = errno
                var st = stat()
                let bytes = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
                close(fd)
                if e == EWOULDBLOCK { return .busy(bytes: bytes) }
                errno = e
                throw SyscallError("lock \(path)")
            }
            guard Files.isStill(fd, at: path) else {
                close(fd)
                continue
            }
            if contains(digest) {
                unlink(path)
                close(fd)
                return .inStore
            }
            do {
                return .opened(try PartialBlob(store: self, digest: digest, size: size, name: name, path: path, fd: fd))
            } catch {
                close(fd)
                throw error
            }
        }
        throw ImageError("\(path) keeps being replaced while cove opens it: is another cove pull looping on \(digest)?")
    }

    /// A pull killed after linking a blob into the store and before
    /// unlinking its partial file leaves the file behind; the next pull
    /// that finds the blob stored removes it, unless a live pull holds it
    /// (that one unlinks it itself).
    private func removeLeftoverPartial(_ path: String) {
        guard let fd = FileLock.tryHold(path) else { return }
        defer { close(fd) }
        if Files.isStill(fd, at: path) { unlink(path) }
    }

    /// Partial files left by pulls; only under the exclusive lock (GC),
    /// when no pull runs.
    func removePartials() {
        guard let names = try? Files.listDirectory(partialDir) else { return }
        for name in names { unlink(partialDir + "/" + name) }
    }
}

/// One blob being fetched: bytes appended are hashed and counted against
/// the declared size as they come; `commit` checks the digest and links the
/// file into `blobs/`. Not shared between tasks: one fetch owns it.
public final class PartialBlob {
    public let digest: Digest
    public let size: Int64
    /// How errors name the blob: "layer sha256:… of docker.io/library/alpine:latest".
    public let name: String
    let store: ContentStore
    let path: String
    private var fd: Int32
    private var hasher = SHA256()
    /// Bytes in the file and hashed so far.
    public private(set) var written: Int64 = 0
    /// What was there from an earlier, interrupted fetch.
    public private(set) var resumedFrom: Int64 = 0

    init(store: ContentStore, digest: Digest, size: Int64, name: String, path: String, fd: Int32) throws {
        self.store = store; self.digest = digest; self.size = size; self.name = name; self.path = path; self.fd = fd
        try rehash()
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Hashes what an earlier fetch left; more than the blob's size is
    /// thrown away (it cannot be this blob).
    private func rehash() throws {
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw SyscallError("read \(path)") }
            if n == 0 { break }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            written += Int64(n)
            if written > size { return try restart() }
        }
        resumedFrom = written
    }

    /// Starts over: the server ignored our Range, or what was kept is wrong.
    public func restart() throws {
        if ftruncate(fd, 0) != 0 { throw SyscallError("truncate \(path)") }
        if lseek(fd, 0, SEEK_SET) < 0 { throw SyscallError("seek \(path)") }
        hasher = SHA256()
        written = 0
        resumedFrom = 0
    }

    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        if written + Int64(bytes.count) > size {
            discard()
            throw ImageError("\(name) is longer than its declared \(size) bytes: refused")
        }
        guard let base = bytes.baseAddress else { return }
        hasher.update(bytes)
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, base + off, bytes.count - off)
            if n < 0 {
                if errno == EINTR { continue }
                throw SyscallError("write \(path)")
            }
            off += n
        }
        written += Int64(bytes.count)
    }

    /// Checks size and digest, syncs, links the blob into the store and
    /// removes the partial file. Returns whether this call created the
    /// blob (false when another process stored it meanwhile). A blob that
    /// does not match is removed: the next pull starts it over.
    public func commit() throws -> Bool {
        guard written == size else {
            throw ImageError("\(name) is truncated: \(written) of \(size) bytes")
        }
        let got = try Digest(hex: SHA256.hexString(hasher.finalize()))
        guard got == digest else {
            discard()
            throw ImageError("\(name) does not match its digest: expected \(digest), got \(got): "
                             + "the registry served damaged or different content")
        }
        if fsync(fd) != 0 { throw SyscallError("fsync \(path)") }
        let created: Bool
        if link(path, store.blobPath(digest)) == 0 {
            created = true
        } else if errno == EEXIST {
            created = false
        } else {
            throw SyscallError("link \(path) to \(store.blobPath(digest))")
        }
        // Unlinked at once: a kill between the link and this leaves a
        // partial file behind (the next pull removes it), so keep it short.
        unlink(path)
        if created {
            let dir = open(store.blobDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dir >= 0 { fsync(dir); close(dir) }
        }
        close(fd)
        fd = -1
        return created
    }

    /// Removes the partial file (its bytes are wrong) and lets go of it.
    package func discard() {
        // Only while this process holds it: once let go, the name may be
        // another pull's new partial file.
        guard fd >= 0 else { return }
        unlink(path)
        close(fd)
        fd = -1
    }

    /// Lets go of the file and keeps it, for the next pull to continue.
    public func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
