#if canImport(Glibc)
import Glibc
#endif
import CArchive
import CCoveShim
import CoveModel

/// SHA-256 for a layer's diff_id: with the CPU's SHA instructions where it
/// has them (x86-64 SHA-NI: about 1.6 GB/s of CPU time here, against about
/// 0.24 GB/s for CoveModel.SHA256, which was half of an unpack's CPU time),
/// else CoveModel.SHA256.
struct LayerHash {
    private var ctx = cove_sha256_ctx()
    /// The portable code, where the CPU lacks the instructions.
    private var soft: SHA256?

    init() {
        if cove_sha256_hw_available() != 0 { cove_sha256_hw_init(&ctx) } else { soft = SHA256() }
    }

    mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        if soft == nil { cove_sha256_hw_update(&ctx, base, bytes.count) } else { soft?.update(bytes) }
    }

    mutating func finalize() -> [UInt8] {
        if let digest = soft?.finalize() { return digest }
        var out = [UInt8](repeating: 0, count: 32)
        cove_sha256_hw_final(&ctx, &out)
        return out
    }
}

/// The layer blob, decompressed in one pass: an outer libarchive reader
/// (gzip or zstd filter, format "raw") yields the uncompressed bytes; they are
/// hashed and counted here on their way to the inner tar reader, which
/// pulls them through archive_read_open's callback.
final class HashingStream {
    private let outer: OpaquePointer
    private let buffer: UnsafeMutableRawPointer
    private let capacity = 1 << 20
    private var sha = LayerHash()
    private var ended = false
    private(set) var total: UInt64 = 0
    let limit: UInt64
    /// Why the stream stopped early, for the inner reader's error.
    private(set) var failure: String?

    init(blob: String, limit: UInt64) throws {
        guard let a = archive_read_new() else { throw FsError("open \(blob): libarchive could not allocate a reader") }
        outer = a
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        self.limit = limit
        // The compressions OCI layers use, read by libarchive's own code:
        // filter_all would run external programs (lrzip, lzop…) for others.
        archive_read_support_filter_gzip(a)
        archive_read_support_filter_zstd(a)
        archive_read_support_format_raw(a)
        // Every property is set from here: a throw still runs deinit.
        let fd = open(blob, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw FsError("open \(blob): \(String(cString: strerror(errno)))") }
        // libarchive does not close an fd it was given: deinit does.
        blobFD = fd
        if archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK {
            throw FsError("read \(blob): \(HashingStream.error(a))")
        }
        var entry: OpaquePointer?
        let r = archive_read_next_header(a, &entry)
        if r == ARCHIVE_EOF { ended = true } else if r != ARCHIVE_OK && r != ARCHIVE_WARN {
            throw FsError("read \(blob): \(HashingStream.error(a))")
        }
    }
    private var blobFD: Int32 = -1

    deinit {
        archive_read_free(outer)
        buffer.deallocate()
        if blobFD >= 0 { close(blobFD) }
    }

    static func error(_ a: OpaquePointer) -> String {
        archive_error_string(a).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    /// The compression libarchive found ("gzip", "zstd", "none").
    var compression: String {
        archive_filter_name(outer, 0).map { String(cString: $0) } ?? "none"
    }

    /// The next uncompressed chunk, hashed: its bytes, 0 at the end, -1 on
    /// failure (with `failure` set).
    func next(_ out: UnsafeMutablePointer<UnsafeRawPointer?>?) -> Int {
        if ended { return 0 }
        let n = archive_read_data(outer, buffer, capacity)
        if n < 0 {
            failure = "decompress: \(HashingStream.error(outer))"
            return -1
        }
        if n == 0 { ended = true; return 0 }
        sha.update(UnsafeBufferPointer(start: buffer.assumingMemoryBound(to: UInt8.self), count: n))
        total += UInt64(n)
        if total > limit {
            failure = "expands beyond \(limit) bytes (--max-size)"
            return -1
        }
        out?.pointee = UnsafeRawPointer(buffer)
        return n
    }

    /// Reads and hashes what the tar reader left (the zero blocks after its
    /// end and any padding): the diff_id covers the whole stream.
    func drain() throws {
        while true {
            let n = next(nil)
            if n < 0 { throw FsError(failure ?? "decompress failed") }
            if n == 0 { return }
        }
    }

    func digest() -> String { "sha256:" + SHA256.hexString(sha.finalize()) }
}

/// The tar reader fed by a HashingStream.
final class LayerTar {
    let handle: OpaquePointer
    let stream: HashingStream

    init(stream: HashingStream) throws {
        guard let a = archive_read_new() else { throw FsError("libarchive could not allocate a reader") }
        handle = a
        self.stream = stream
        archive_read_support_format_tar(a)
        let context = Unmanaged.passUnretained(stream).toOpaque()
        let r = archive_read_open(a, context, nil, { _, context, out in
            guard let context else { return -1 }
            let s = Unmanaged<HashingStream>.fromOpaque(context).takeUnretainedValue()
            return la_ssize_t(s.next(out))
        }, nil)
        // Every property is set: a throw from here runs deinit, which frees.
        if r != ARCHIVE_OK {
            throw FsError(stream.failure ?? HashingStream.error(a))
        }
    }

    deinit { archive_read_free(handle) }

    var lastError: String { stream.failure ?? HashingStream.error(handle) }
}
