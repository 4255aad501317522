import AsyncHTTPClient
import CoveImages
import CoveModel
import Foundation
import NIOCore

extension RegistryClient {
    /// The `Authorization` value for a request to the registry in `scope`
    /// (`repository:library/alpine:pull`): a cached token, a new token from
    /// the challenge's realm, Basic credentials, or none (anonymous).
    func authorization(scope: String) async throws -> String? {
        let (cached, challenge) = state.withLock { ($0.tokens[scope], $0.challenge) }
        if let cached { return "Bearer " + cached }
        guard let challenge else { return nil }
        switch challenge.scheme {
        case "bearer":
            let token = try await fetchToken(challenge, scope: scope)
            state.withLock { $0.tokens[scope] = token }
            return "Bearer " + token
        case "basic":
            return credentials?.basicHeader
        default:
            throw ImageError("\(endpoint.registry) asks for \"\(challenge.scheme)\" authentication, "
                             + "which cove does not speak (only Basic and Bearer)")
        }
    }

    /// A token from the challenge's realm (the distribution token spec):
    /// `GET realm?service=…&scope=…`, with Basic credentials when we have
    /// them; the answer's `token`, else `access_token`.
    func fetchToken(_ challenge: AuthChallenge, scope: String) async throws -> String {
        guard let realm = challenge.realm, realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
            throw ImageError("\(endpoint.registry) sent a Bearer challenge without a usable realm: cannot get a token")
        }
        var query: [String] = []
        if let service = challenge.service { query.append("service=" + Self.formEncode(service)) }
        if !scope.isEmpty { query.append("scope=" + Self.formEncode(scope)) }
        let url = realm + (query.isEmpty ? "" : (realm.contains("?") ? "&" : "?") + query.joined(separator: "&"))
        var request = HTTPClientRequest(url: url)
        // A password goes in clear over plain HTTP: only to a realm on
        // loopback or when the registry itself is insecure (--tls-verify=false).
        if let credentials {
            let realmHost = String(RegistryEndpoint.origin(realm).split(separator: "/").last ?? "")
            guard realm.hasPrefix("https://") || endpoint.insecure || RegistryEndpoint.isLoopback(realmHost) else {
                throw ImageError("\(endpoint.registry) sends credentials for a token to \(realm), over plain HTTP: refused; "
                                 + "use --tls-verify=false only if you trust that network")
            }
            request.headers.add(name: "Authorization", value: credentials.basicHeader)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(30))
        } catch {
            throw TransportFailure("cannot get a token from \(realm): \(Self.describe(error))")
        }
        switch response.status.code {
        case 200..<300: break
        case 401, 403:
            throw unauthorized(scope.isEmpty ? "a token" : scope, "the token service at \(realm) said "
                               + (await Self.errorSummary(response)))
        default:
            throw ImageError("the token service at \(realm) for \(endpoint.registry) answered "
                             + (await Self.errorSummary(response)))
        }
        let body = try await Self.collect(response, limit: 1 << 20, what: "the token from \(realm)")
        guard let json = try? JSON.parse(body),
              let token = json["token"]?.stringValue ?? json["access_token"]?.stringValue, !token.isEmpty else {
            throw ImageError("the token service at \(realm) for \(endpoint.registry) answered without a token")
        }
        return token
    }

    /// Percent-encodes a query value (RFC 3986 unreserved kept).
    static func formEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }

    /// `cove login`: checks credentials against the registry. With a
    /// Bearer challenge the token service must accept them; with Basic,
    /// `/v2/` must answer 200 with them.
    public func verifyLogin() async throws {
        let (scheme, challenge) = try await ping()
        guard let challenge else { return }
        switch challenge.scheme {
        case "bearer":
            _ = try await fetchToken(challenge, scope: "")
        case "basic":
            var request = HTTPClientRequest(url: endpoint.url(scheme, "/v2/"))
            if let credentials { request.headers.add(name: "Authorization", value: credentials.basicHeader) }
            let response: HTTPClientResponse
            do { response = try await http.execute(request, timeout: .seconds(30)) } catch {
                throw TransportFailure("cannot connect to the registry \(endpoint.registry): \(Self.describe(error))")
            }
            let summary = await Self.errorSummary(response)
            if response.status.code == 401 || response.status.code == 403 {
                throw ImageError("unauthorized: \(endpoint.registry) refused the credentials"
                                 + (credentials.map { " of \($0.username)" } ?? "") + " (\(summary))")
            }
            guard (200..<300).contains(response.status.code) else {
                throw ImageError("\(endpoint.registry) answered \(summary) to the login check")
            }
        default:
            throw ImageError("\(endpoint.registry) asks for \"\(challenge.scheme)\" authentication, "
                             + "which cove does not speak (only Basic and Bearer)")
        }
    }
}
