/// How a path in a layer tar is read: split into components that stay
/// inside the layer, and whiteout names recognised (OCI image-spec
/// layer.md: `.wh.NAME` deletes NAME below, `.wh..wh..opq` makes its
/// directory opaque).
public enum LayerPath: Equatable, Sendable {
    /// The layer's root itself ("." or "./").
    case root
    case entry([String])
    /// `.wh.NAME` in the directory `parent`.
    case whiteout(parent: [String], name: String)
    /// `.wh..wh..opq` in the directory `parent`.
    case opaque(parent: [String])
    /// Another `.wh..wh.` name (aufs bookkeeping): nothing to make.
    case aufsMetadata

    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case absolute
        case escapes
        case badWhiteout

        public var description: String {
            switch self {
            case .absolute: return "is an absolute path"
            case .escapes: return "climbs out of the layer with '..'"
            case .badWhiteout: return "is a whiteout without a name"
            }
        }
    }

    public static let whiteoutPrefix = ".wh."
    public static let opaqueMarker = ".wh..wh..opq"

    /// Components of `raw` with "." dropped and ".." folded; refused when
    /// absolute or when a ".." would leave the layer's root.
    public static func components(_ raw: String) -> Result<[String], Refusal> {
        if raw.hasPrefix("/") { return .failure(.absolute) }
        var parts: [String] = []
        for p in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            if p == ".." {
                if parts.isEmpty { return .failure(.escapes) }
                parts.removeLast()
                continue
            }
            parts.append(String(p))
        }
        return .success(parts)
    }

    public static func parse(_ raw: String) -> Result<LayerPath, Refusal> {
        switch components(raw) {
        case let .failure(r): return .failure(r)
        case let .success(parts):
            guard let last = parts.last else { return .success(.root) }
            let parent = Array(parts.dropLast())
            if last == opaqueMarker { return .success(.opaque(parent: parent)) }
            if last.hasPrefix(".wh..wh.") { return .success(.aufsMetadata) }
            if last.hasPrefix(whiteoutPrefix) {
                let name = String(last.dropFirst(whiteoutPrefix.count))
                if name.isEmpty || name == "." || name == ".." { return .failure(.badWhiteout) }
                return .success(.whiteout(parent: parent, name: name))
            }
            return .success(.entry(parts))
        }
    }
}
