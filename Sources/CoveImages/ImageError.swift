/// A failure in the image store or while loading an archive: one line that
/// names what failed and on what, with the fix where it is known.
public struct ImageError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A content digest, `sha256:` and 64 lowercase hex digits. Other
/// algorithms are refused: the store keys blobs by sha256 only.
public struct Digest: Hashable, Sendable, CustomStringConvertible {
    public let hex: String

    public init(parsing text: String) throws {
        guard text.hasPrefix("sha256:") else { throw ImageError("unsupported digest \"\(text)\": only sha256 is supported") }
        try self.init(hex: String(text.dropFirst(7)))
    }

    public init(hex: String) throws {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else {
            throw ImageError("invalid sha256 digest \"\(hex)\"")
        }
        self.hex = hex
    }

    public var description: String { "sha256:" + hex }
    public var shortID: String { String(hex.prefix(12)) }
}
