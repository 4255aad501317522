/// An image reference as docker resolves short names:
/// `alpine` → `docker.io/library/alpine:latest`.
public struct ImageReference: Equatable, Sendable, CustomStringConvertible {
    public var registry: String
    public var repository: String
    public var tag: String?
    public var digest: String?

    public struct ParseError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public init(parsing text: String) throws {
        guard !text.isEmpty, text.lowercased() == text || text.contains("@") || text.contains(":") else {
            throw ParseError(description: "invalid reference \"\(text)\": repository names must be lowercase")
        }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard let d = digest, d.hasPrefix("sha256:"), d.count == 71 else {
                throw ParseError(description: "invalid reference \"\(text)\": bad digest")
            }
        }
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 1, parts[0].contains(".") || parts[0].contains(":") || parts[0] == "localhost" {
            registry = String(parts[0])
            repository = parts.dropFirst().joined(separator: "/")
        } else {
            registry = "docker.io"
            repository = parts.count == 1 ? "library/\(parts[0])" : parts.joined(separator: "/")
        }
        if registry == "index.docker.io" { registry = "docker.io" }
        guard !repository.isEmpty, !repository.split(separator: "/", omittingEmptySubsequences: false).contains(where: \.isEmpty),
              repository == repository.lowercased() else {
            throw ParseError(description: "invalid reference \"\(text)\"")
        }
        if tag == nil && digest == nil { tag = "latest" }
    }

    public var description: String {
        var s = "\(registry)/\(repository)"
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }
}
