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

    /// The device outlives its fds and goes with its network namespace.
    public static func setPersistent(_ fd: Int32) throws {
        try check("make the tap device persistent", cove_tap_set_persist(fd))
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

    /// A signal to the process `pidFD` names, never to a later one that
    /// reuses its pid; false when it is gone.
    @discardableResult
    public static func signal(pidFD: Int32, _ sig: Int32) -> Bool {
        cove_pidfd_send_signal(pidFD, sig) == 0
    }
}

/// The unix stream sockets of cove-net's API.
public enum NetAPISocket {
    /// Listens at `path`; a socket left there by a crashed predecessor is
    /// replaced, any other file is an error.
    public static func listen(_ path: String, backlog: Int32 = 16) throws -> Int32 {
        if let m = Files.lstatMode(path), m & S_IFMT == S_IFSOCK { unlink(path) }
        return try check("listen on \(path)", cove_listen_unix(path, backlog))
    }

    /// A waiting connection, non-blocking, or nil when none waits.
    public static func accept(_ fd: Int32) throws -> Int32? {
        let c = cove_accept_nonblocking(fd)
        if c >= 0 { return c }
        if errno == EAGAIN || errno == ECONNABORTED { return nil }
        throw SyscallError("accept on api socket")
    }
}

/// An IPv4 or IPv6 address.
public enum IPAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)          // network byte order, as in_addr holds it
    case v6([UInt8])         // 16 bytes

    public init(_ a: IPv4Address) { self = .v4(a.raw) }

    /// A dotted quad or an IPv6 address (brackets allowed).
    public init?(_ text: String) {
        var t = Substring(text)
        if t.hasPrefix("["), t.hasSuffix("]") { t = t.dropFirst().dropLast() }
        if let a = IPv4Address(String(t)) { self = .v4(a.raw); return }
        guard t.contains(":") else { return nil }
        var buf = [UInt8](repeating: 0, count: 16)
        guard inet_pton(AF_INET6, String(t), &buf) == 1 else { return nil }
        self = .v6(buf)
    }

    public static let loopback4 = IPAddress(IPv4Address(127, 0, 0, 1))
    public static let loopback6 = IPAddress.v6([UInt8](repeating: 0, count: 15) + [1])

    public var family: Int32 { if case .v4 = self { return AF_INET } else { return AF_INET6 } }
    public var isIPv6: Bool { family == AF_INET6 }

    public var bytes: [UInt8] {
        switch self {
        case let .v4(raw): return withUnsafeBytes(of: raw) { Array($0) }
        case let .v6(b): return b
        }
    }

    /// 127.0.0.0/8, ::1, or an IPv4-mapped 127.x.y.z.
    public var isLoopback: Bool {
        let b = bytes
        switch self {
        case .v4: return b[0] == 127
        case .v6:
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
            return b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff && b[12] == 127
        }
    }

    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String {
        let b = bytes
        if case .v4 = self { return "\(b[0]).\(b[1]).\(b[2]).\(b[3])" }
        var out = [UInt8](repeating: 0, count: 64)
        let ok = out.withUnsafeMutableBufferPointer { p in
            p.baseAddress.map { $0.withMemoryRebound(to: CChar.self, capacity: 64) { inet_ntop(AF_INET6, b, $0, 64) != nil } }
                ?? false
        }
        guard ok, let end = out.firstIndex(of: 0) else { return "?" }
        return String(decoding: out[..<end], as: UTF8.self)
    }
}

/// An address and a port.
public struct SocketAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: UInt16

    public init(_ ip: IPAddress, _ port: UInt16) { self.ip = ip; self.port = port }

    init(_ c: cove_inet_addr) {
        let b = withUnsafeBytes(of: c.addr) { Array($0) }
        ip = c.family == AF_INET6 ? .v6(b) : .v4(UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24)
        port = c.port
    }

    var c: cove_inet_addr {
        var a = cove_inet_addr()
        a.family = ip.family
        a.port = port
        let b = ip.bytes
        withUnsafeMutableBytes(of: &a.addr) { dst in for (i, x) in b.enumerated() { dst[i] = x } }
        return a
    }

    public var description: String { ip.isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    /// The address as a struct sockaddr, for APIs that take one (libslirp's).
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch ip {
        case let .v4(raw):
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = raw
            return withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case let .v6(b):
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &a.sin6_addr) { dst in for (i, x) in b.enumerated() { dst[i] = x } }
            return withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

/// The inet sockets of port forwards and DNS: non-blocking and
/// close-on-exec throughout.
public enum InetSockets {
    /// A listening TCP (or bound UDP) socket in a SO_REUSEPORT group.
    public static func bind(udp: Bool, _ a: SocketAddress, backlog: Int32 = 128) throws -> Int32 {
        var c = a.c
        return try check("bind \(udp ? "udp" : "tcp") \(a)",
                         cove_inet_bind(udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), &c, backlog))
    }

    /// Binds a plain socket (no SO_REUSEPORT; SO_REUSEADDR for TCP only, so
    /// that connections in TIME_WAIT do not count) to `a` and closes it: the
    /// port bound (the kernel's choice for port 0), or the errno. A port
    /// held by a reuseport group, another cove-net's, is taken this way.
    public static func probeBind(udp: Bool, _ a: SocketAddress) -> Result<UInt16, SyscallError> {
        let fd = socket(a.ip.isIPv6 ? AF_INET6 : AF_INET,
                        Int32(udp ? SOCK_DGRAM.rawValue : SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return .failure(SyscallError("socket for \(a)")) }
        defer { close(fd) }
        var one: Int32 = 1
        if !udp { _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if a.ip.isIPv6 { _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if a.withSockaddr({ Glibc.bind(fd, $0, $1) }) != 0 { return .failure(SyscallError("bind \(udp ? "udp" : "tcp") \(a)")) }
        guard let local = localAddress(fd) else { return .failure(SyscallError("getsockname of \(a)")) }
        return .success(local.port)
    }

    public static func localAddress(_ fd: Int32) -> SocketAddress? {
        var c = cove_inet_addr()
        return cove_inet_local(fd, &c) == 0 ? SocketAddress(c) : nil
    }

    /// Loopback clients to the group's first socket, the rest to its second.
    public static func steerLoopbackFirst(_ fd: Int32, describe: @autoclosure () -> String) throws {
        try check("attach the reuseport program to \(describe())", cove_reuseport_steer_loopback(fd))
    }

    /// A waiting connection and its peer, or nil when none waits.
    public static func accept(_ fd: Int32) throws -> (Int32, SocketAddress)? {
        var c = cove_inet_addr()
        let s = cove_inet_accept(fd, &c)
        if s >= 0 { return (s, SocketAddress(c)) }
        if errno == EAGAIN || errno == ECONNABORTED { return nil }
        throw SyscallError("accept")
    }

    /// A socket connected (or connecting) to `to`, bound to `from`'s address.
    public static func connect(udp: Bool, from: SocketAddress?, to: SocketAddress) -> (fd: Int32, errno: Int32) {
        var t = to.c
        let fd: Int32
        if var f = from?.c {
            fd = cove_inet_connect(udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), &f, &t)
        } else {
            fd = cove_inet_connect(udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), nil, &t)
        }
        return (fd, fd < 0 ? errno : 0)
    }

    public static func pendingError(_ fd: Int32) -> Int32 { cove_socket_error(fd) }
    public static func closeWithReset(_ fd: Int32) { cove_close_reset(fd) }

    public static func receive(_ fd: Int32, _ buf: UnsafeMutableRawBufferPointer) -> (Int, SocketAddress) {
        var c = cove_inet_addr()
        let n = cove_inet_recvfrom(fd, buf.baseAddress, buf.count, &c)
        return (n, SocketAddress(c))
    }

    public static func send(_ fd: Int32, _ buf: UnsafeRawBufferPointer, to: SocketAddress) -> Int {
        var c = to.c
        return cove_inet_sendto(fd, buf.baseAddress, buf.count, &c)
    }

    /// A non-blocking pipe and its capacity.
    public static func pipe(capacity: Int) throws -> (read: Int32, write: Int32, capacity: Int) {
        var fds: [Int32] = [-1, -1]
        let cap = try check("pipe", cove_pipe_nonblocking(&fds, Int32(capacity)))
        return (fds[0], fds[1], Int(cap))
    }

    public static func splice(from: Int32, to: Int32, count: Int) -> Int { cove_splice(from, to, count) }

    public static func lowestFreeFD() -> Int32 { cove_lowest_free_fd() }
    public static func dup(_ from: Int32, onto to: Int32) throws {
        try check("dup \(from) onto \(to)", cove_dup_onto(from, to))
    }
}

extension NetInterface {
    public static func setAddress6(_ name: String, _ addr: IPAddress, prefixLength: Int) throws {
        try check("set address \(addr)/\(prefixLength) on \(name)", cove_if_set_ipv6(name, addr.bytes, Int32(prefixLength)))
    }

    public static func addDefaultRoute6(_ name: String, via gateway: IPAddress) throws {
        try check("add default route via \(gateway) on \(name)", cove_route_add_default6(name, gateway.bytes))
    }

    /// A sysctl of the calling process's network namespace.
    public static func setSysctl(_ path: String, _ value: String) throws {
        try check("write \(value) to \(path)", cove_write_sysctl(path, value))
    }
}

/// The host's resolvers, from resolv.conf texts.
public enum Resolvers {
    /// The nameserver lines of a resolv.conf, port 53. A scoped IPv6
    /// address (fe80::1%eth0) has no use from another host's namespace.
    public static func nameservers(in text: String) -> [SocketAddress] {
        var out: [SocketAddress] = []
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 2, f[0] == "nameserver", !f[1].contains("%"), let ip = IPAddress(String(f[1])) else { continue }
            out.append(SocketAddress(ip, 53))
        }
        return out
    }

    /// /etc/resolv.conf's servers; when it lists only local stubs
    /// (systemd-resolved's 127.0.0.53), the upstream servers of
    /// /run/systemd/resolve/resolv.conf if it names any, else the stubs.
    public static func choose(resolvConf: String, systemdResolvConf: String) -> [SocketAddress] {
        let listed = nameservers(in: resolvConf)
        if !listed.isEmpty, listed.allSatisfy({ $0.ip.isLoopback }) {
            let real = nameservers(in: systemdResolvConf).filter { !$0.ip.isLoopback }
            if !real.isEmpty { return real }
        }
        return listed
    }
}

/// The frames of the DNS forwarder: a UDP query to the resolver taken from
/// an Ethernet frame, and the answer built back.
public enum DNSFrames {
    /// A query's Ethernet, IPv4 (first 20 bytes) and UDP headers, and its payload.
    public struct Query: Equatable, Sendable {
        public let header: [UInt8]
        public let payload: [UInt8]
    }

    public enum Verdict: Equatable, Sendable {
        case notForUs       // leave it to libslirp
        case malformed      // for us, but dropped
        case query(Query)
    }

    /// Whether the frame is an unfragmented UDP/IPv4 datagram to
    /// resolver:53 (untagged Ethernet).
    public static func classify(_ frame: UnsafeRawBufferPointer, resolver: IPv4Address) -> Verdict {
        guard frame.count >= 14 + 20 + 8, frame[12] == 0x08, frame[13] == 0x00,
              frame[14] >> 4 == 4, frame[14 + 9] == 17 else { return .notForUs }
        let ihl = Int(frame[14] & 0x0f) * 4
        guard ihl >= 20, frame.count >= 14 + ihl + 8 else { return .notForUs }
        // Fragments are libslirp's to reassemble.
        let fragment = (UInt16(frame[14 + 6]) << 8 | UInt16(frame[14 + 7])) & 0x3fff
        guard fragment == 0 else { return .notForUs }
        let udp = 14 + ihl
        guard IPv4Address(frame[30], frame[31], frame[32], frame[33]) == resolver,
              frame[udp + 2] == 0, frame[udp + 3] == 53 else { return .notForUs }
        let length = Int(frame[udp + 4]) << 8 | Int(frame[udp + 5])
        // Shorter than a DNS header, or longer than the frame.
        guard length >= 8 + 12, udp + length <= frame.count else { return .malformed }
        return .query(Query(header: Array(frame[0..<34]) + Array(frame[udp..<udp + 8]),
                            payload: Array(frame[(udp + 8)..<(udp + length)])))
    }

    /// The answer as a frame from the address asked, port 53, back to the
    /// asker, with IPv4 and UDP checksums.
    public static func reply(to q: Query, answer: [UInt8], ipID: UInt16) -> [UInt8] {
        let h = q.header
        var f = [UInt8]()
        f.reserveCapacity(14 + 20 + 8 + answer.count)
        f += h[6..<12] + h[0..<6] + [0x08, 0x00]      // to the asker's MAC, from the one it used
        let total = 20 + 8 + answer.count
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), UInt8(ipID >> 8), UInt8(ipID & 0xff),
                           0x40, 0, 64, 17, 0, 0]
        ip += h[30..<34]                              // source: the address asked
        ip += h[26..<30]                              // destination: the asker
        let ipSum = checksum(ip)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xff)
        let udpLength = 8 + answer.count
        var udp: [UInt8] = [h[36], h[37], h[34], h[35], UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        var sum = checksum(udp + answer, initial: pseudoHeaderSum(ip, udpLength: udpLength))
        if sum == 0 { sum = 0xffff }                  // 0 would mean "no checksum"
        udp[6] = UInt8(sum >> 8)
        udp[7] = UInt8(sum & 0xff)
        return f + ip + udp + answer
    }

    /// The UDP pseudo-header's sum: both addresses of an IPv4 header, the
    /// protocol and the UDP length.
    public static func pseudoHeaderSum(_ ip: [UInt8], udpLength: Int) -> UInt32 {
        var s: UInt32 = 17 + UInt32(udpLength)
        for i in stride(from: 12, to: 20, by: 2) { s += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        return s
    }

    /// The Internet checksum (RFC 1071), with a partial sum to start from
    /// (TCPFrames.checksum, the one implementation).
    public static func checksum(_ bytes: [UInt8], initial: UInt32 = 0) -> UInt16 {
        bytes.withUnsafeBytes { TCPFrames.checksum($0, initial: initial) }
    }
}

/// The container's side of cove-net's link, made in the calling process's
/// network namespace: tap0 with 10.0.2.100/24, the MTU, loopback up and
/// the default route via 10.0.2.2 (and, with IPv6, fd00::100/64 via
/// fd00::2). The container's init makes it (cove-unshare's early start
/// while the id maps are written), or cove-net's tap child after joining
/// the container's namespaces (the OCI hook).
public enum ContainerTap {
    public static let device = "tap0"
    public static let address = IPv4Address(10, 0, 2, 100)
    public static let prefixLength = 24
    public static let gateway = IPv4Address(10, 0, 2, 2)
    // slirp4netns --enable-ipv6's network: fd00::/64, gateway fd00::2, DNS
    // fd00::3. It leaves the guest to SLAAC; cove-net sets fd00::100, the
    // same host part as 10.0.2.100, so that the address is known at once.
    public static let address6 = IPAddress("fd00::100")
    public static let prefixLength6 = 64
    public static let gateway6 = IPAddress("fd00::2")

    /// `persistent`: the device outlives its fds and goes with its network
    /// namespace. Closing a tap's last fd unregisters the device, and that
    /// waits for the kernel's network grace periods (15-30 ms here); a
    /// persistent one is instead removed by the kernel's asynchronous
    /// namespace cleanup. Only for a namespace that dies with its
    /// container: in one that lives on, the device would be left behind.
    public static func create(mtu: Int, ipv6: Bool, persistent: Bool) throws -> Int32 {
        let fd = try NetInterface.openTap(device)
        do {
            if persistent { try NetInterface.setPersistent(fd) }
            try NetInterface.up("lo")
            try NetInterface.setMTU(device, mtu)
            try NetInterface.setAddress(device, address, prefixLength: prefixLength)
            try NetInterface.up(device)
            // The kernel refuses a gateway route until the gateway is on a
            // connected subnet, that is after the address is set and the link up.
            try NetInterface.addDefaultRoute(device, via: gateway)
            if ipv6 { try addIPv6() }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// A tap made by `create` with the default MTU, without IPv6 and not
    /// persistent (cove-unshare's early start makes it before it knows the
    /// settings), brought to what `create` with these would have made.
    public static func finish(_ fd: Int32, mtu: Int, ipv6: Bool, persistent: Bool) throws {
        if persistent { try NetInterface.setPersistent(fd) }
        if mtu != defaultMTU { try NetInterface.setMTU(device, mtu) }
        if ipv6 { try addIPv6() }
    }

    private static func addIPv6() throws {
        guard let address6, let gateway6 else { return }
        // No duplicate address detection: the link has two ends, and a
        // tentative address could not be used for a second or so.
        // /proc/sys/net reflects the namespace of the process opening it.
        try NetInterface.setSysctl("/proc/sys/net/ipv6/conf/\(device)/accept_dad", "0")
        try NetInterface.setAddress6(device, address6, prefixLength: prefixLength6)
        try NetInterface.addDefaultRoute6(device, via: gateway6)
    }

    /// Starts a network helper as `PATH --tap-channel 3`, `channel` its
    /// fd 3, in a session of its own with stdio on /dev/null (its failures
    /// come back on the channel). For cove-unshare and the front alike.
    public static func startHelper(_ path: String, channel: Int32) throws -> pid_t {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw SyscallError("open /dev/null") }
        defer { close(null) }
        var options = Spawn.Options()
        options.fds = [(0, null), (1, null), (2, null), (3, channel)]
        options.newSession = true
        return try Spawn.spawn(path, [path, "--tap-channel", "3"], env: Spawn.currentEnvironment, options: options)
    }

    /// The annotation by which the front asks cove-unshare to start the
    /// network helper before the container and hand it the container's
    /// namespaces (see cove-unshare's NetworkHandoff).
    public static let helperAnnotation = "io.cove.network.helper"

    /// cove-net's MTU unless --mtu says otherwise: a tap's largest, as
    /// slirp4netns's default for podman.
    public static let defaultMTU = 65520

    /// The MTUs cove-net takes: libslirp's largest (IF_MTU_MAX) down to
    /// IPv4's smallest.
    public static let mtuRange = 576...65521

    /// The tap's MTU and IPv6 as cove-net's arguments ask (--mtu N,
    /// --enable-ipv6): init makes the tap before cove-net reads them.
    public static func settings(fromHelperArguments args: [String]) -> (mtu: Int, ipv6: Bool) {
        var mtu = defaultMTU
        var ipv6 = false
        for (i, a) in args.enumerated() {
            if a == "--enable-ipv6" { ipv6 = true }
            // Out of cove-net's range: left at the default here, cove-net
            // refuses it with its own line.
            if a == "--mtu", i + 1 < args.count, let n = Int(args[i + 1]), mtuRange.contains(n) { mtu = n }
            if a.hasPrefix("--mtu="), let n = Int(a.dropFirst(6)), mtuRange.contains(n) { mtu = n }
        }
        return (mtu, ipv6)
    }
}
