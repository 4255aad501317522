/// Where a registry's API is and how to speak to it: Docker Hub's API
/// lives at registry-1.docker.io; a registry on loopback, or any with
/// `--tls-verify=false`, is insecure as docker treats it: HTTPS without
/// certificate checks, or plain HTTP.
public struct RegistryEndpoint: Equatable, Sendable {
    /// The registry as references name it: `docker.io`, `127.0.0.1:5000`.
    public let registry: String
    /// Host and port the API is reached at.
    public let host: String
    public let tlsVerify: Bool

    public init(registry: String, tlsVerify: Bool = true) {
        self.registry = registry
        host = registry == "docker.io" ? "registry-1.docker.io" : registry
        self.tlsVerify = tlsVerify
    }

    public var insecure: Bool { !tlsVerify || Self.isLoopback(host) }

    /// Schemes to try, in order. On loopback plain HTTP comes first: a
    /// plain server (docker-registry) given a TLS hello waits for a request
    /// line that never comes, while a TLS server given plain HTTP answers
    /// 400 at once.
    public var schemes: [String] {
        if Self.isLoopback(host) { return ["http", "https"] }
        return tlsVerify ? ["https"] : ["https", "http"]
    }

    /// `localhost`, 127.0.0.0/8 and ::1, with or without a port.
    public static func isLoopback(_ hostPort: String) -> Bool {
        var h = Substring(hostPort)
        if h.hasPrefix("[") {
            guard let close = h.firstIndex(of: "]") else { return false }
            h = h[h.index(after: h.startIndex)..<close]
        } else if let colon = h.lastIndex(of: ":"), h.firstIndex(of: ":") == colon {
            h = h[..<colon]
        }
        if h == "localhost" || h == "::1" { return true }
        let octets = h.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    public func url(_ scheme: String, _ path: String) -> String { "\(scheme)://\(host)\(path)" }

    /// `/v2/<name>/manifests/<tag or digest>`.
    public static func manifestPath(repository: String, reference: String) -> String {
        "/v2/\(repository)/manifests/\(reference)"
    }

    public static func blobPath(repository: String, digest: Digest) -> String {
        "/v2/\(repository)/blobs/\(digest)"
    }

    /// A redirect's `Location` against the URL that answered with it.
    public static func resolve(_ location: String, against base: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let schemeEnd = base.firstRange(of: "://") else { return location }
        let afterScheme = base[schemeEnd.upperBound...]
        let origin = base[..<(afterScheme.firstIndex(of: "/") ?? base.endIndex)]
        if location.hasPrefix("//") { return base[..<schemeEnd.lowerBound] + ":" + location }
        if location.hasPrefix("/") { return origin + location }
        var path = String(base[origin.endIndex...])
        if let q = path.firstIndex(of: "?") { path = String(path[..<q]) }
        let dir = path[..<(path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.endIndex)]
        return origin + (dir.isEmpty ? "/" : dir) + location
    }

    /// `scheme://host:port` of a URL: credentials go only where they came from.
    public static func origin(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        return String(url[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? url.endIndex)])
    }
}
