import CoveLinux
import CoveModel

/// `--change` instructions for `cove import`, in Dockerfile syntax, read as
/// podman reads them: `INSTRUCTION VALUE` (or `INSTRUCTION=VALUE` when the
/// line has no space); ENTRYPOINT, CMD and VOLUME in JSON form or shell
/// form; ENV (appended) and LABEL as `key=value` with surrounding quotes dropped;
/// WORKDIR joined to the previous one; STOPSIGNAL stored as its number.
public struct ImageChanges: Equatable, Sendable {
    public var user: String?
    public var exposedPorts: [String] = []
    public var env: [String] = []
    public var entrypoint: [String]?
    public var cmd: [String]?
    public var volumes: [String] = []
    public var workingDir: String?
    public var labels: [String: String] = [:]
    public var stopSignal: String?

    public init() {}

    public init(parsing changes: [String]) throws {
        for c in changes { try apply(c) }
    }

    mutating func apply(_ change: String) throws {
        func fail(_ why: String) -> ImageError { ImageError("invalid change \"\(change)\": \(why)") }
        var parts = change.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count != 2 { parts = change.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false) }
        guard parts.count == 2 else { throw fail("write it as INSTRUCTION VALUE, e.g. \"ENV PATH=/bin\"") }
        let instruction = Self.trim(parts[0]).uppercased()
        let value = Self.trim(parts[1])
        switch instruction {
        case "USER":
            user = value
        case "EXPOSE":
            let words = value.split(separator: " ").map(String.init)
            guard !words.isEmpty else { throw fail("EXPOSE needs a port, e.g. \"EXPOSE 80/tcp\"") }
            for w in words {
                let pp = w.split(separator: "/", omittingEmptySubsequences: false)
                guard pp.count <= 2, let port = Int(pp[0]), port > 0, port <= 65535 else {
                    throw fail("\(w) is not a port (1-65535, optionally /tcp or /udp)")
                }
                let proto = pp.count == 2 ? pp[1].lowercased() : "tcp"
                guard proto == "tcp" || proto == "udp" else { throw fail("the protocol must be tcp or udp, not \(pp[1])") }
                let key = "\(port)/\(proto)"
                if !exposedPorts.contains(key) { exposedPorts.append(key) }
            }
        case "ENV":
            let kv = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.unquote(String(kv[0]))
            guard !key.isEmpty else { throw fail("ENV needs a name, as in \"ENV NAME=value\"") }
            let val = kv.count == 2 ? Self.unquote(String(kv[1])) : ""
            // Appended, as podman does, even when the name is there already:
            // the later entry is the one that counts.
            env.append(key + "=" + val)
        case "ENTRYPOINT":
            entrypoint = Self.commandForm(value)
        case "CMD":
            cmd = Self.commandForm(value)
        case "VOLUME":
            guard !value.isEmpty else { throw fail("VOLUME needs a path") }
            let paths = Self.jsonStrings(value) ?? value.split(separator: " ").map(String.init)
            for p in paths where !volumes.contains(p) { volumes.append(p) }
        case "WORKDIR":
            guard !value.isEmpty else { throw fail("WORKDIR needs a directory") }
            // As podman: each WORKDIR is joined to the one before it.
            workingDir = Self.join(workingDir ?? "", value)
        case "LABEL":
            let kv = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw fail("LABEL needs key=value") }
            let key = Self.unquote(String(kv[0]))
            guard !key.isEmpty else { throw fail("LABEL needs a key") }
            labels[key] = Self.unquote(String(kv[1]))
        case "STOPSIGNAL":
            guard let s = Signals.parse(value), s > 0 else { throw fail("\(value) is not a signal (a name such as SIGTERM, or a number)") }
            stopSignal = String(s)
        default:
            throw fail("\(instruction) is not one of ENV, CMD, ENTRYPOINT, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL")
        }
    }

    /// The image config's `config` object, keys as docker writes them;
    /// maps with sorted keys, as Go's encoder writes them.
    public var configJSON: JSON {
        var o: [(String, JSON)] = []
        if let user { o.append(("User", .string(user))) }
        if !exposedPorts.isEmpty { o.append(("ExposedPorts", .object(exposedPorts.sorted().map { ($0, JSON.object([])) }))) }
        if !env.isEmpty { o.append(("Env", .array(env.map { .string($0) }))) }
        if let entrypoint { o.append(("Entrypoint", .array(entrypoint.map { .string($0) }))) }
        if let cmd { o.append(("Cmd", .array(cmd.map { .string($0) }))) }
        if !volumes.isEmpty { o.append(("Volumes", .object(volumes.sorted().map { ($0, JSON.object([])) }))) }
        if let workingDir { o.append(("WorkingDir", .string(workingDir))) }
        if !labels.isEmpty { o.append(("Labels", .object(labels.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }))) }
        if let stopSignal { o.append(("StopSignal", .string(stopSignal))) }
        return .object(o)
    }

    /// JSON form (`["a","b"]`) as it is; shell form run by `/bin/sh -c`;
    /// nothing at all an empty list.
    static func commandForm(_ value: String) -> [String] {
        if let list = jsonStrings(value) { return list }
        return value.isEmpty ? [] : ["/bin/sh", "-c", value]
    }

    static func jsonStrings(_ value: String) -> [String]? {
        guard let j = try? JSON.parse(value), let items = j.arrayValue else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    static func trim<S: StringProtocol>(_ s: S) -> String {
        String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }

    static func unquote(_ s: String) -> String {
        s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
    }

    /// Go's filepath.Join: joined with "/" and cleaned; an absolute second
    /// part does not start over.
    static func join(_ a: String, _ b: String) -> String {
        let joined = a.isEmpty ? b : a + "/" + b
        let absolute = joined.hasPrefix("/")
        var parts: [Substring] = []
        for p in joined.split(separator: "/") {
            if p == "." { continue }
            if p == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            if p == "..", absolute { continue }
            parts.append(p)
        }
        let body = parts.joined(separator: "/")
        return absolute ? "/" + body : (body.isEmpty ? "." : body)
    }
}
