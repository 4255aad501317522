#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import CoveImages
import CoveModel

/// A failure of the connection, not of the content: what was fetched and
/// verified so far stays, and partial downloads are kept for the next pull.
public struct TransportFailure: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A client of one registry's distribution API v2 for one pull or login:
/// finds the scheme that answers, authenticates (anonymous, Basic, or a
/// Bearer token from the `WWW-Authenticate` challenge, cached per scope),
/// and follows redirects without taking credentials to another origin.
/// `shutdown()` must be called at the end.
public final class RegistryClient: Sendable {
    public let endpoint: RegistryEndpoint
    public let credentials: Credentials?
    let http: HTTPClient
    let state = Mutex(State())

    struct State {
        var scheme: String?
        var challenge: AuthChallenge?
        var tokens: [String: String] = [:]
    }

    static let maxRedirects = 8

    public init(endpoint: RegistryEndpoint, credentials: Credentials?) {
        self.endpoint = endpoint
        self.credentials = credentials
        var config = endpoint.insecure
            ? HTTPClient.Configuration(certificateVerification: .none) : HTTPClient.Configuration()
        // Redirects are followed here, where we decide who sees the token.
        config.redirectConfiguration = .disallow
        config.timeout = .init(connect: .seconds(15), read: .seconds(60))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// `GET /v2/`: the first scheme that answers, and the registry's
    /// challenge when it wants one. Done once per client.
    @discardableResult
    public func ping() async throws -> (scheme: String, challenge: AuthChallenge?) {
        if let s = state.withLock({ $0.scheme }) { return (s, state.withLock { $0.challenge }) }
        var failures: [String] = []
        for scheme in endpoint.schemes {
            let url = endpoint.url(scheme, "/v2/")
            if endpoint.refusesConnections(scheme) {
                failures.append("\(scheme): connection refused")
                continue
            }
            let response: HTTPClientResponse
            do {
                // A scheme the server does not speak may hang rather than
                // fail: with another to try, give it a few seconds only.
                let last = scheme == endpoint.schemes.last
                response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(last ? 30 : 5))
            } catch {
                failures.append("\(scheme): \(Self.describe(error))")
                continue
            }
            await Self.drain(response)
            // A registry answers /v2/ with 200, or 401 to ask for
            // credentials; anything else (a TLS server's 400 to plain
            // HTTP, a web page) is not the API.
            guard response.status == .ok || response.status == .unauthorized else {
                failures.append("\(scheme): HTTP \(response.status.code) from \(url), not a registry API")
                continue
            }
            let challenge = response.status == .unauthorized ? Self.challenge(response) : nil
            state.withLock { $0.scheme = scheme; $0.challenge = challenge }
            return (scheme, challenge)
        }
        throw TransportFailure("cannot connect to the registry \(endpoint.registry) (\(failures.joined(separator: "; ")))"
                               + (endpoint.insecure ? "" : "; for a registry without TLS use --tls-verify=false"))
    }

    static func challenge(_ response: HTTPClientResponse) -> AuthChallenge? {
        let all = response.headers["WWW-Authenticate"].flatMap { AuthChallenge.parse($0) }
        return all.first { $0.scheme == "bearer" } ?? all.first { $0.scheme == "basic" }
    }

    /// Sends a GET to `path` on the registry, authenticated for `scope`,
    /// following redirects (to storage, for blobs) with no credentials
    /// once they leave the registry's origin. The response's body is the
    /// caller's to read.
    func get(_ path: String, scope: String, accept: [String] = [], range: Int64? = nil,
             timeout: TimeAmount = .seconds(60)) async throws -> HTTPClientResponse {
        let (scheme, _) = try await ping()
        let registryOrigin = RegistryEndpoint.origin(endpoint.url(scheme, "/"))
        var url = endpoint.url(scheme, path)
        var retriedAuth = false
        for _ in 0..<Self.maxRedirects {
            var request = HTTPClientRequest(url: url)
            if !accept.isEmpty { request.headers.add(name: "Accept", value: accept.joined(separator: ", ")) }
            if let range { request.headers.add(name: "Range", value: "bytes=\(range)-") }
            let toRegistry = RegistryEndpoint.origin(url) == registryOrigin
            if toRegistry, let auth = try await authorization(scope: scope) {
                request.headers.add(name: "Authorization", value: auth)
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, timeout: timeout)
            } catch {
                throw TransportFailure("cannot fetch \(url): \(Self.describe(error))")
            }
            let code = response.status.code
            if code == 401, toRegistry, !retriedAuth, let c = Self.challenge(response),
               c.scheme == "bearer" || credentials != nil {
                // A first challenge, or a token that expired: ask again once.
                retriedAuth = true
                state.withLock { $0.challenge = c; $0.tokens[scope] = nil }
                await Self.drain(response)
                continue
            }
            if [301, 302, 303, 307, 308].contains(code), let location = response.headers.first(name: "Location") {
                await Self.drain(response)
                url = RegistryEndpoint.resolve(location, against: url)
                continue
            }
            return response
        }
        throw ImageError("more than \(Self.maxRedirects) redirects fetching \(endpoint.url(scheme, path)): refused")
    }

    /// Reads a body of at most `limit` bytes; more is refused.
    static func collect(_ response: HTTPClientResponse, limit: Int, what: String) async throws -> [UInt8] {
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > limit {
            throw ImageError("\(what) is \(length) bytes, over the \(limit >> 20) MiB limit: refused")
        }
        var out: [UInt8] = []
        do {
            for try await chunk in response.body {
                out += chunk.readableBytesView
                if out.count > limit { throw ImageError("\(what) is over the \(limit >> 20) MiB limit: refused") }
            }
        } catch let e as ImageError { throw e } catch {
            throw TransportFailure("reading \(what): \(describe(error))")
        }
        return out
    }

    /// Reads and drops a body we do not need, so the connection is reusable.
    static func drain(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    /// One phrase for a failure of the connection.
    static func describe(_ error: Error) -> String {
        if let e = error as? NIOConnectionError {
            if let io = e.connectionErrors.lazy.compactMap({ $0.error as? IOError }).first {
                return String(cString: strerror(io.errnoCode)).lowercased()
            }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "the name \(e.host) does not resolve" }
            return "cannot connect to \(e.host):\(e.port)"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? HTTPClientError {
            switch e {
            case .connectTimeout: return "connection timed out"
            case .readTimeout: return "no data for 60 seconds"
            case .deadlineExceeded: return "the request took too long"
            case .remoteConnectionClosed: return "the registry closed the connection"
            default: return "\(e)"
            }
        }
        return "\(error)"
    }

    /// The registry's error body (`{"errors":[{"code":…,"message":…}]}`)
    /// in a few words, or the HTTP status when there is none.
    static func errorSummary(_ response: HTTPClientResponse) async -> String {
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { Array($0.readableBytesView) } ?? []
        if let json = try? JSON.parse(body), let first = json["errors"]?.arrayValue?.first {
            let code = first["code"]?.stringValue ?? ""
            let message = first["message"]?.stringValue ?? ""
            if !code.isEmpty || !message.isEmpty { return [code, message].filter { !$0.isEmpty }.joined(separator: ": ") }
        }
        return "HTTP \(response.status.code) \(response.status.reasonPhrase)"
    }

    /// The error for a 401 or 403: who refused, and what to run.
    func unauthorized(_ what: String, _ detail: String) -> ImageError {
        if let credentials {
            return ImageError("unauthorized: \(endpoint.registry) refused the credentials of \(credentials.username) "
                              + "for \(what) (\(detail)): run `cove login \(endpoint.registry)` again")
        }
        return ImageError("unauthorized: \(endpoint.registry) requires a login for \(what) (\(detail)): "
                          + "run `cove login \(endpoint.registry)`")
    }
}
