import CArchive
import CoveImages
#if canImport(Glibc)
import Glibc
#endif

/// Sequential reading of a tar archive (compressed or not) with libarchive.
final class TarReader {
    struct Entry {
        let path: String
        let size: Int64
        let isRegular: Bool
        /// A symbolic link's target (docker save links duplicate layers).
        let linkTarget: String?
    }

    private let handle: OpaquePointer
    let archivePath: String

    init(_ path: String) throws {
        guard let h = archive_read_new() else { throw ImageError("open \(path): libarchive could not allocate a reader") }
        handle = h
        archivePath = path
        archive_read_support_format_tar(h)
        archive_read_support_filter_all(h)
        // All properties are set: a throw from here on still runs deinit,
        // which frees the handle.
        if archive_read_open_filename(h, path, 1 << 16) != ARCHIVE_OK {
            let e = archive_errno(h)
            throw ImageError("open \(path): " + (e > 0 ? String(cString: strerror(e)) : lastError))
        }
    }

    deinit { archive_read_free(handle) }

    private var lastError: String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    func next() throws -> Entry? {
        var entry: OpaquePointer?
        let r = archive_read_next_header(handle, &entry)
        if r == ARCHIVE_EOF { return nil }
        guard r == ARCHIVE_OK || r == ARCHIVE_WARN, let entry else {
            throw ImageError("read \(archivePath): \(lastError)")
        }
        let raw = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
        let type = archive_entry_filetype(entry)
        return Entry(path: TarReader.clean(raw), size: archive_entry_size(entry),
                     isRegular: type == 0o100000,
                     linkTarget: type == 0o120000 ? archive_entry_symlink(entry).map { String(cString: $0) } : nil)
    }

    /// Fills `buffer` from the current entry; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = archive_read_data(handle, buffer.baseAddress, buffer.count)
        if n < 0 { throw ImageError("read \(archivePath): \(lastError)") }
        return n
    }

    /// The whole current entry, refused when over `limit` bytes.
    func readAll(limit: Int, what: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try buf.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out += buf[0..<n]
            if out.count > limit { throw ImageError("\(what) in \(archivePath) is larger than \(limit >> 20) MiB: refused") }
        }
    }

    /// "./a/../b" → "b": tar writers differ in how they spell names.
    static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/") {
            if p == "." { continue }
            if p == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(p)
        }
        return parts.joined(separator: "/")
    }
}
