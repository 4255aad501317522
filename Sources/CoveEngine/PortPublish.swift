#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// One `-p` as docker takes it: `CTR`, `HOST:CTR`, `IP:HOST:CTR`, `IP::CTR`,
/// each port a single number or a range `A-B`, `[IPV6]` in brackets, and
/// an optional `/tcp` or `/udp`. A missing host port is chosen free when
/// the container is created; ranges become one forward per port.
public struct PortPublish: Equatable, Sendable {
    /// Empty: every address (0.0.0.0). IPv6 without brackets.
    public var hostIP = ""
    /// nil: a free port is chosen for each container port.
    public var hostPorts: ClosedRange<Int>?
    public var containerPorts: ClosedRange<Int>
    public var proto = "tcp"

    public init(parsing text: String) throws {
        func bad(_ why: String) -> EngineError { EngineError("invalid -p \"\(text)\": \(why)") }
        var s = Substring(text)
        if let slash = s.lastIndex(of: "/") {
            proto = String(s[s.index(after: slash)...])
            guard proto == "tcp" || proto == "udp" else {
                throw bad("unknown protocol \"\(proto)\": use tcp or udp")
            }
            s = s[..<slash]
        }
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { throw bad("an IPv6 address needs its closing ]") }
            hostIP = String(s[s.index(after: s.startIndex)..<close])
            s = s[s.index(after: close)...]
            guard s.hasPrefix(":"), IPAddress(hostIP)?.isIPv6 == true else {
                throw bad("expected [IPV6]:HOST:CTR")
            }
            s = s.dropFirst()
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw bad("expected [IPV6]:HOST:CTR") }
            hostPorts = try parts[0].isEmpty ? nil : Self.range(String(parts[0]), bad)
            containerPorts = try Self.range(String(parts[1]), bad)
        } else {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch parts.count {
            case 1:
                containerPorts = try Self.range(parts[0], bad)
            case 2:
                hostPorts = try Self.range(parts[0], bad)
                containerPorts = try Self.range(parts[1], bad)
            case 3:
                hostIP = parts[0]
                guard let a = IPAddress(hostIP), !a.isIPv6 else {
                    throw bad("\"\(hostIP)\" is no IPv4 address (an IPv6 one goes in brackets: [::1]:8080:80)")
                }
                hostPorts = try parts[1].isEmpty ? nil : Self.range(parts[1], bad)
                containerPorts = try Self.range(parts[2], bad)
            default:
                throw bad("expected [IP:][HOST:]CTR[/tcp|udp]")
            }
        }
        // As docker: a host range for one container port means "any one of
        // these"; otherwise the two ranges pair up port by port.
        if let h = hostPorts, h.count != containerPorts.count, containerPorts.count != 1 {
            throw EngineError("invalid ranges for -p \"\(text)\": host ports \(Self.text(h)) (\(h.count)) and container "
                + "ports \(Self.text(containerPorts)) (\(containerPorts.count)) differ in length: give ranges of equal length")
        }
    }

    static func range(_ t: String, _ bad: (String) -> EngineError) throws -> ClosedRange<Int> {
        let ends = t.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let lo = Int(ends[0]), (1...65535).contains(lo) else { throw bad("\"\(t)\" is no port (1-65535) or range A-B") }
        guard ends.count == 2 else { return lo...lo }
        guard let hi = Int(ends[1]), (1...65535).contains(hi), hi >= lo else {
            throw bad("\"\(t)\" is no port range: use A-B with A <= B, both 1-65535")
        }
        return lo...hi
    }

    static func text(_ r: ClosedRange<Int>) -> String { r.count == 1 ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)" }

    /// One `IP:HOST:CTR/proto` per container port, host ports chosen where
    /// none (or a range for one port) was given.
    public func expand(isFree: (String, Int, String) -> Bool = PortPublish.isFree,
                       choose: (String, String) throws -> Int = PortPublish.freePort) throws -> [String] {
        format(try pairs(isFree: isFree, choose: choose))
    }

    func format(_ pairs: [(host: Int, ctr: Int)]) -> [String] {
        let shownIP = ip.contains(":") ? "[\(ip)]" : ip
        return pairs.map { "\(shownIP):\($0.host):\($0.ctr)/\(proto)" }
    }

    /// The host address forwards listen on.
    var ip: String { hostIP.isEmpty ? "0.0.0.0" : hostIP }

    /// (host port, container port) for each container port.
    func pairs(isFree: (String, Int, String) -> Bool, choose: (String, String) throws -> Int) throws -> [(host: Int, ctr: Int)] {
        try containerPorts.enumerated().map { i, ctr in
            if let h = hostPorts, h.count == containerPorts.count { return (h.lowerBound + i, ctr) }
            if let h = hostPorts {
                guard let p = h.first(where: { isFree(ip, $0, proto) }) else {
                    throw EngineError("no free \(proto) port in \(Self.text(h)) on \(ip) for -p: free one or give another range")
                }
                return (p, ctr)
            }
            return (try choose(ip, proto), ctr)
        }
    }

    /// Whether a port can be bound now on `ip`. A plain socket, without
    /// SO_REUSEPORT: cove-net's own sockets are in reuseport groups, and a
    /// port another container publishes must not look free.
    public static func isFree(_ ip: String, _ port: Int, _ proto: String) -> Bool {
        guard let p = UInt16(exactly: port) else { return false }
        return (try? boundPort(ip, p, proto)) != nil
    }

    /// A port the kernel gives for `ip` now (docker picks at start; cove at
    /// create, so that `cove port` can show it before the container runs).
    public static func freePort(_ ip: String, _ proto: String) throws -> Int {
        Int(try boundPort(ip, 0, proto))
    }

    /// Binds a socket to ip:port (0: any), closes it, returns the port.
    static func boundPort(_ ip: String, _ port: UInt16, _ proto: String) throws -> UInt16 {
        guard let a = IPAddress(ip) else { throw EngineError("invalid host address \(ip) for -p") }
        return try InetSockets.probeBind(udp: proto == "udp", SocketAddress(a, port)).get()
    }

    /// Every `-p`, expanded; a host port chosen for one is not chosen
    /// again for another (probing alone would find it free twice).
    public static func expandAll(_ specs: [String]) throws -> [String] {
        var out: [String] = []
        var taken = Set<String>()
        for s in specs {
            let spec = try PortPublish(parsing: s)
            func key(_ port: Int) -> String { "\(spec.ip) \(port) \(spec.proto)" }
            let got = try spec.pairs(isFree: { ip, port, proto in !taken.contains(key(port)) && isFree(ip, port, proto) },
                                     choose: { ip, proto in
                for _ in 0..<64 {
                    let p = try freePort(ip, proto)
                    if !taken.contains(key(p)) { return p }
                }
                throw EngineError("no free \(proto) port on \(ip) for -p")
            })
            for p in got { taken.insert(key(p.host)) }
            out += spec.format(got)
        }
        return out
    }
}
