/// A `WWW-Authenticate` challenge (RFC 7235): a scheme and its
/// parameters, e.g. `Bearer realm="https://auth.docker.io/token",
/// service="registry.docker.io",scope="repository:library/alpine:pull"`.
public struct AuthChallenge: Equatable, Sendable {
    /// Lowercased: `basic`, `bearer`.
    public var scheme: String
    /// Parameter names lowercased; values unquoted and unescaped.
    public var parameters: [String: String]

    public init(scheme: String, parameters: [String: String]) {
        self.scheme = scheme; self.parameters = parameters
    }

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    public var scope: String? { parameters["scope"] }

    /// The challenges in one header value. Schemes are separated by commas
    /// too, so a new challenge starts at a bare token not followed by `=`.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var out: [AuthChallenge] = []
        var s = Substring(header)
        func skipSpace() { while let c = s.first, c == " " || c == "\t" { s.removeFirst() } }
        func token() -> String {
            let t = s.prefix(while: { !" \t,=\"".contains($0) })
            s.removeFirst(t.count)
            return String(t)
        }
        func value() -> String {
            guard s.first == "\"" else { return token() }
            s.removeFirst()
            var v = ""
            while let c = s.first {
                s.removeFirst()
                if c == "\"" { break }
                if c == "\\", let next = s.first { v.append(next); s.removeFirst(); continue }
                v.append(c)
            }
            return v
        }
        // Bounded by the header's length: every turn consumes input or ends.
        var guardCount = header.count + 1
        while guardCount > 0 {
            guardCount -= 1
            skipSpace()
            while s.first == "," { s.removeFirst(); skipSpace() }
            if s.isEmpty { break }
            let name = token()
            if name.isEmpty { s.removeFirst(); continue }
            skipSpace()
            if s.first == "=", var last = out.popLast() {
                // A parameter of the current challenge.
                s.removeFirst()
                skipSpace()
                last.parameters[name.lowercased()] = value()
                out.append(last)
            } else {
                out.append(AuthChallenge(scheme: name.lowercased(), parameters: [:]))
            }
        }
        return out
    }
}
