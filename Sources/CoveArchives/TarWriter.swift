import CArchive
import CoveImages
#if canImport(Glibc)
import Glibc
#endif

/// Writing a tar archive with libarchive (pax, which is ustar whenever
/// an entry needs nothing more) onto a file descriptor the caller owns.
final class TarWriter {
    private let handle: OpaquePointer
    let what: String
    private var finished = false

    init(fd: Int32, what: String) throws {
        guard let h = archive_write_new() else { throw ImageError("write \(what): libarchive could not allocate a writer") }
        handle = h
        self.what = what
        guard archive_write_set_format_pax_restricted(h) == ARCHIVE_OK,
              archive_write_add_filter_none(h) == ARCHIVE_OK,
              archive_write_set_bytes_in_last_block(h, 1) == ARCHIVE_OK,
              archive_write_open_fd(h, fd) == ARCHIVE_OK else {
            throw ImageError("write \(what): \(lastError)")
        }
    }

    deinit { archive_write_free(handle) }

    var lastError: String {
        let e = archive_errno(handle)
        let text = archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
        return e > 0 && !text.contains(String(cString: strerror(e))) ? text + ": " + String(cString: strerror(e)) : text
    }

    /// Copies a header (and then the data) read by another libarchive handle.
    func writeHeader(_ entry: OpaquePointer) throws {
        let r = archive_write_header(handle, entry)
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN else { throw ImageError("write \(what): \(lastError)") }
    }

    func writeData(_ buf: UnsafeRawBufferPointer) throws {
        var off = 0
        while off < buf.count {
            let n = archive_write_data(handle, buf.baseAddress! + off, buf.count - off)
            if n <= 0 { throw ImageError("write \(what): \(lastError)") }
            off += n
        }
    }

    /// A regular file entry of `size` bytes whose data `fill` supplies.
    func add(name: String, size: Int64, _ fill: (TarWriter) throws -> Void) throws {
        guard let e = archive_entry_new() else { throw ImageError("write \(what): out of memory") }
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, name)
        archive_entry_set_size(e, size)
        archive_entry_set_filetype(e, 0o100000)
        archive_entry_set_perm(e, 0o644)
        archive_entry_set_mtime(e, time(nil), 0)
        try writeHeader(e)
        try fill(self)
    }

    /// A directory entry, 0755 (podman writes `blobs/` and `blobs/sha256/`
    /// before the blobs; skopeo, unprivileged, needs them there).
    func addDirectory(name: String) throws {
        guard let e = archive_entry_new() else { throw ImageError("write \(what): out of memory") }
        defer { archive_entry_free(e) }
        archive_entry_set_pathname(e, name)
        archive_entry_set_filetype(e, 0o040000)
        archive_entry_set_perm(e, 0o755)
        archive_entry_set_mtime(e, time(nil), 0)
        try writeHeader(e)
    }

    func add(name: String, bytes: [UInt8]) throws {
        try add(name: name, size: Int64(bytes.count)) { w in try bytes.withUnsafeBytes { try w.writeData($0) } }
    }

    /// A regular file entry with the contents of `path`.
    func add(name: String, file path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw ImageError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ImageError("stat \(path): \(String(cString: strerror(errno)))") }
        try add(name: name, size: Int64(st.st_size)) { w in
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            var left = Int64(st.st_size)
            while left > 0 {
                let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, min($0.count, Int(left))) }
                if n < 0 { throw ImageError("read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { throw ImageError("read \(path): the file shrank while it was written") }
                try buf.withUnsafeBytes { try w.writeData(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                left -= Int64(n)
            }
        }
    }

    func finish() throws {
        guard !finished else { return }
        finished = true
        guard archive_write_close(handle) == ARCHIVE_OK else { throw ImageError("write \(what): \(lastError)") }
    }
}

/// The decompressed bytes of a file (gzip, zstd, … or plain), read with
/// libarchive's raw format.
final class DecompressingReader {
    private let handle: OpaquePointer
    let path: String

    init(_ path: String) throws {
        guard let h = archive_read_new() else { throw ImageError("open \(path): libarchive could not allocate a reader") }
        handle = h
        self.path = path
        archive_read_support_filter_all(h)
        archive_read_support_format_raw(h)
        guard archive_read_open_filename(h, path, 1 << 16) == ARCHIVE_OK else { throw ImageError("open \(path): \(lastError)") }
        var entry: OpaquePointer?
        guard archive_read_next_header(h, &entry) == ARCHIVE_OK else { throw ImageError("read \(path): \(lastError)") }
    }

    deinit { archive_read_free(handle) }

    private var lastError: String { archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error" }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(handle, buffer.baseAddress, buffer.count)
        if n < 0 { throw ImageError("read \(path): \(lastError)") }
        return n
    }
}
