#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// A user name and password for one registry.
public struct Credentials: Equatable, Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) { self.username = username; self.password = password }

    /// `Basic base64(user:password)`.
    public var basicHeader: String { "Basic " + Base64.encode("\(username):\(password)") }
}

/// Registry credentials in podman's `auth.json` (`{"auths": {"host":
/// {"auth": base64("user:password")}}}`), read from `$REGISTRY_AUTH_FILE`,
/// else `$XDG_RUNTIME_DIR/containers/auth.json`; docker's
/// `~/.docker/config.json` (same shape) is read too, never written.
public struct AuthFile: Sendable {
    public let path: String
    public let dockerConfig: String?

    public init(path: String, dockerConfig: String?) { self.path = path; self.dockerConfig = dockerConfig }

    /// Where podman looks, in podman's order.
    public static func standard() -> AuthFile {
        func env(_ name: String) -> String? { Environment.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let path = env("REGISTRY_AUTH_FILE")
            ?? env("XDG_RUNTIME_DIR").map { $0 + "/containers/auth.json" }
            ?? "/run/user/\(getuid())/containers/auth.json"
        let docker = (env("DOCKER_CONFIG") ?? env("HOME").map { $0 + "/.docker" }).map { $0 + "/config.json" }
        return AuthFile(path: path, dockerConfig: docker)
    }

    /// The keys a registry may be filed under: podman allows a repository
    /// namespace (`host/ns/repo`, most specific first); docker files Docker
    /// Hub under its v1 URL.
    static func keys(registry: String, repository: String?) -> [String] {
        var keys: [String] = []
        if let repository {
            var parts = repository.split(separator: "/").map(String.init)
            while !parts.isEmpty {
                keys.append(registry + "/" + parts.joined(separator: "/"))
                parts.removeLast()
            }
        }
        keys.append(registry)
        if registry == "docker.io" {
            keys += ["index.docker.io", "registry-1.docker.io", "https://index.docker.io/v1/"]
        }
        keys += ["https://" + registry, "http://" + registry]
        return keys
    }

    /// The credentials for a registry (and repository), podman's file first.
    public func credentials(registry: String, repository: String? = nil) throws -> Credentials? {
        for file in [path] + (dockerConfig.map { [$0] } ?? []) {
            guard let auths = try read(file)?["auths"] else { continue }
            for key in Self.keys(registry: registry, repository: repository) {
                guard let entry = auths[key] else { continue }
                if let c = try decode(entry, key: key, file: file) { return c }
            }
        }
        return nil
    }

    func decode(_ entry: JSON, key: String, file: String) throws -> Credentials? {
        if let auth = entry["auth"]?.stringValue, !auth.isEmpty {
            guard let data = Base64.decode(auth), let text = String(validating: data, as: UTF8.self),
                  let colon = text.firstIndex(of: ":") else {
                throw ImageError("the \"auth\" of \(key) in \(file) is not base64 of user:password: "
                                 + "run `cove login \(key)` again")
            }
            return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
        }
        if let u = entry["username"]?.stringValue, let p = entry["password"]?.stringValue {
            return Credentials(username: u, password: p)
        }
        return nil
    }

    func read(_ file: String) throws -> JSON? {
        guard Files.exists(file) else { return nil }
        do { return try JSON.parse(try Files.read(file, limit: 4 << 20)) } catch let e as JSONError {
            throw ImageError("\(file) is damaged (\(e)): fix or remove it, then run `cove login` again")
        }
    }

    /// Files `credentials` for `registry`, keeping every other entry and
    /// key; written 0600 to a temporary name and renamed into place.
    public func store(_ credentials: Credentials, registry: String) throws {
        let auth = Base64.encode("\(credentials.username):\(credentials.password)")
        try update { auths in
            auths.filter { $0.0 != registry } + [(registry, .object([("auth", .string(auth))]))]
        }
    }

    /// Removes `registry`'s entry; false when there was none.
    public func remove(registry: String) throws -> Bool {
        var found = false
        try update { auths in
            found = auths.contains { $0.0 == registry }
            return auths.filter { $0.0 != registry }
        }
        return found
    }

    /// Removes the file (`cove logout --all`); false when there was none.
    public func removeAll() throws -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw SyscallError("remove \(path)")
    }

    private func update(_ change: ([(String, JSON)]) -> [(String, JSON)]) throws {
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        if !dir.isEmpty { try Files.makeDirectories(dir, mode: 0o700) }
        // A lock beside the file: two logins at once must not lose either.
        let lock = try FileLock.acquire(path + ".lock")
        defer { close(lock) }
        let top = try read(path)?.objectValue ?? []
        let auths = top.first(where: { $0.0 == "auths" })?.1.objectValue ?? []
        let updated = top.filter { $0.0 != "auths" } + [("auths", JSON.object(change(auths)))]
        try Files.writeAtomically(path, Array((JSON.object(updated).serialized(pretty: true) + "\n").utf8), mode: 0o600)
    }
}
