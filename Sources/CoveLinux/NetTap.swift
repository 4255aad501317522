#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

/// An IPv4 address as four numbers; `raw` is in network byte order, as
/// struct in_addr holds it.
public struct IPv4Address: Equatable, Sendable, CustomStringConvertible {
    public let octets: (UInt8, UInt8, UInt8, UInt8)

    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) { octets = (a, b, c, d) }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var v: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let n = UInt8(p) else { return nil }
            v.append(n)
        }
        octets = (v[0], v[1], v[2], v[3])
    }

    /// The netmask of a prefix length (0...32).
    public init(prefixLength n: Int) {
        let m: UInt32 = n <= 0 ? 0 : (n >= 32 ? .max : ~(UInt32.max >> UInt32(n)))
        self.init(UInt8(m >> 24), UInt8((m >> 16) & 0xff), UInt8((m >> 8) & 0xff), UInt8(m & 0xff))
    }

    public var raw: UInt32 {
        let (a, b, c, d) = octets
        return (UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)).bigEndian
    }

    public static func == (l: IPv4Address, r: IPv4Address) -> Bool { l.raw == r.raw }

    public var description: String {
        let (a, b, c, d) = octets
        return "\(a).\(b).\(c).\(d)"
    }
}

/// A tap device and the interface settings the container's side needs.
/// All of these act on the calling process's network namespace.
public enum NetInterface {
    public static func openTap(_ name: String) throws -> Int32 {
        let fd = cove_tap_open(name)
        if fd < 0 {
            let e = errno
            let hint = e == EACCES || e == EPERM || e == ENOENT
                ? "/dev/net/tun must exist with mode 0666, as distributions set it" : nil
            throw SyscallError("open tap device \(name) on /dev/net/tun", errno: e, hint: hint)
        }
        return fd
    }

    public static func up(_ name: String) throws {
        try check("bring up interface \(name)", cove_if_up(name))
    }

    public static func setAddress(_ name: String, _ addr: IPv4Address, prefixLength: Int) throws {
        try check("set address \(addr)/\(prefixLength) on \(name)",
                  cove_if_set_ipv4(name, addr.raw, IPv4Address(prefixLength: prefixLength).raw))
    }

    public static func setMTU(_ name: String, _ mtu: Int) throws {
        try check("set mtu \(mtu) on \(name)", cove_if_set_mtu(name, Int32(mtu)))
    }

    public static func addDefaultRoute(_ name: String, via gateway: IPv4Address) throws {
        try check("add default route via \(gateway) on \(name)", cove_route_add_default(name, gateway.raw))
    }
}

extension Processes {
    /// A pidfd for `pid`: it polls readable once the process has exited.
    public static func openPidFD(_ pid: pid_t) throws -> Int32 {
        try check("pidfd_open \(pid)", cove_pidfd_open(pid))
    }
}

/// The unix stream sockets of cove-net's API.
public enum NetAPISocket {
    /// Listens at `path`; a socket left there by a crashed predecessor is
    /// replaced, any other file is an error.
    public static func listen(_ path: String) throws -> Int32 {
        if let m = Files.lstatMode(path), m & S_IFMT == S_IFSOCK { unlink(path) }
        return try check("listen on \(path)", cove_listen_unix(path, 16))
    }

    /// A waiting connection, non-blocking, or nil when none waits.
    public static func accept(_ fd: Int32) throws -> Int32? {
        let c = cove_accept_nonblocking(fd)
        if c >= 0 { return c }
        if errno == EAGAIN || errno == ECONNABORTED { return nil }
        throw SyscallError("accept on api socket")
    }
}
