#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// The container's resolver, 10.0.2.3: UDP queries to its port 53 are taken
/// from the tap before libslirp sees them, sent from a host UDP socket to
/// the host's resolvers (or --dns-upstream), and the answer goes back to the
/// tap as a frame built here. libslirp's own forwarder cannot be pointed
/// anywhere: it reads /etc/resolv.conf itself, takes its first nameserver
/// and always port 53, so neither systemd-resolved's upstreams behind a
/// 127.0.0.53 stub nor a resolver on another port can be used through it.
/// TCP queries (and IPv6 ones, to fd00::3) still go to libslirp.
final class DNSForwarder {
    static let resolver = IPv4Address(10, 0, 2, 3)
    static let maxPending = 256
    static let lifetimeMs: Int64 = 5_000
    static let retryMs: Int64 = 1_500

    final class Query {
        let header: [UInt8]         // the query's Ethernet, IPv4 and UDP headers
        let payload: [UInt8]
        var fd: Int32 = -1
        var upstream = 0
        let deadline: Int64
        var retryAt: Int64
        init(header: [UInt8], payload: [UInt8], now: Int64) {
            self.header = header
            self.payload = payload
            deadline = now + DNSForwarder.lifetimeMs
            retryAt = now + DNSForwarder.retryMs
        }
    }

    let upstreams: [SocketAddress]
    let tapFD: Int32
    private var pending: [Query] = []
    private var polled: [Query] = []
    private var ipID: UInt16 = 1
    private var buffer = [UInt8](repeating: 0, count: 65536)

    init(upstreams: [SocketAddress], tapFD: Int32) {
        self.upstreams = upstreams
        self.tapFD = tapFD
    }

    /// The host's resolvers: /etc/resolv.conf's; when it lists only local
    /// stubs (127.0.0.53 of systemd-resolved), the upstream servers that
    /// /run/systemd/resolve/resolv.conf names, else the stubs themselves.
    static func hostUpstreams(resolvConf: String = "/etc/resolv.conf",
                              systemd: String = "/run/systemd/resolve/resolv.conf") -> [SocketAddress] {
        let listed = nameservers(in: (try? Files.readText(resolvConf)) ?? "")
        if !listed.isEmpty, listed.allSatisfy({ $0.ip.isLoopback }) {
            let real = nameservers(in: (try? Files.readText(systemd)) ?? "").filter { !$0.ip.isLoopback }
            if !real.isEmpty { return real }
        }
        return listed
    }

    static func nameservers(in text: String) -> [SocketAddress] {
        var out: [SocketAddress] = []
        for line in text.split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // A scoped IPv6 address (fe80::1%eth0) has no use from here.
            guard f.count >= 2, f[0] == "nameserver", !f[1].contains("%"), let ip = IPAddress(String(f[1])) else { continue }
            out.append(SocketAddress(ip, 53))
        }
        return out
    }

    /// Takes the frame if it is a UDP query to 10.0.2.3:53; false leaves it
    /// to libslirp.
    func intercept(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard !upstreams.isEmpty, frame.count >= 14 + 20 + 8 + 12,
              frame[12] == 0x08, frame[13] == 0x00,                // IPv4, untagged
              frame[14] >> 4 == 4, frame[14 + 9] == 17 else { return false }
        let ihl = Int(frame[14] & 0x0f) * 4
        guard ihl >= 20, frame.count >= 14 + ihl + 8 else { return false }
        // Fragments are libslirp's to reassemble.
        let fragment = (UInt16(frame[14 + 6]) << 8 | UInt16(frame[14 + 7])) & 0x3fff
        guard fragment == 0 else { return false }
        let dst = IPv4Address(frame[30], frame[31], frame[32], frame[33])
        let udp = 14 + ihl
        guard dst == DNSForwarder.resolver, frame[udp + 2] == 0, frame[udp + 3] == 53 else { return false }
        let udpLength = Int(frame[udp + 4]) << 8 | Int(frame[udp + 5])
        guard udpLength >= 8 + 12, udp + udpLength <= frame.count else { return true }   // malformed: dropped
        let now = SlirpTimers.nowMilliseconds()
        if pending.count >= DNSForwarder.maxPending, let oldest = pending.first { drop(oldest) }
        let q = Query(header: Array(frame[0..<14]) + Array(frame[14..<34]) + Array(frame[udp..<udp + 8]),
                      payload: Array(frame[(udp + 8)..<(udp + udpLength)]), now: now)
        if send(q) { pending.append(q) }
        return true
    }

    /// Sends the query to its current upstream from a new socket.
    private func send(_ q: Query) -> Bool {
        if q.fd >= 0 { close(q.fd) }
        q.fd = -1
        let (fd, e) = InetSockets.connect(udp: true, from: nil, to: upstreams[q.upstream])
        guard fd >= 0 else {
            NetLog.error("dns: connect to \(upstreams[q.upstream]): \(SyscallError("", errno: e).reason)")
            return false
        }
        q.fd = fd
        _ = q.payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return true
    }

    private func drop(_ q: Query) {
        if q.fd >= 0 { close(q.fd) }
        q.fd = -1
        pending.removeAll { $0 === q }
    }

    func pollEntries(into p: inout [pollfd]) {
        polled = pending
        for q in polled { p.append(pollfd(fd: q.fd, events: Int16(POLLIN), revents: 0)) }
    }

    func millisecondsToDeadline(now: Int64) -> Int64? {
        pending.map { min($0.deadline, $0.retryAt) }.min().map { max(0, $0 - now) }
    }

    func handle(_ revents: ArraySlice<pollfd>) {
        for (q, p) in zip(polled, revents) where p.revents != 0 && q.fd >= 0 {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(q.fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                reply(q, Array(buffer[0..<n]))
                drop(q)
            } else if n < 0 && errno != EAGAIN && errno != EINTR {
                // Refused (ICMP): the next upstream, if any, at its time.
                close(q.fd)
                q.fd = -1
            }
        }
        let now = SlirpTimers.nowMilliseconds()
        for q in pending where q.deadline <= now { drop(q) }
        for q in pending where q.retryAt <= now {
            q.retryAt = now + DNSForwarder.retryMs
            if upstreams.count > 1 || q.fd < 0 {
                q.upstream = (q.upstream + 1) % upstreams.count
                if !send(q) { drop(q) }
            }
        }
    }

    /// The answer as a frame from 10.0.2.3:53 back to the asker.
    private func reply(_ q: Query, _ answer: [UInt8]) {
        let h = q.header
        var f = [UInt8]()
        f.reserveCapacity(14 + 20 + 8 + answer.count)
        f += h[6..<12] + h[0..<6] + [0x08, 0x00]                      // to the asker's MAC, from the one it used
        let total = 20 + 8 + answer.count
        ipID &+= 1
        var ip: [UInt8] = [0x45, 0, UInt8(total >> 8), UInt8(total & 0xff), UInt8(ipID >> 8), UInt8(ipID & 0xff),
                           0x40, 0, 64, 17, 0, 0]
        ip += h[30..<34]                                              // source: the address asked (10.0.2.3)
        ip += h[26..<30]                                              // destination: the asker
        let ipSum = DNSForwarder.checksum(ip, initial: 0)
        ip[10] = UInt8(ipSum >> 8)
        ip[11] = UInt8(ipSum & 0xff)
        let udpLength = 8 + answer.count
        var udp: [UInt8] = [h[36], h[37], h[34], h[35], UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        // The pseudo-header: addresses, protocol, UDP length.
        var pseudo: UInt32 = 17 + UInt32(udpLength)
        for i in stride(from: 12, to: 20, by: 2) { pseudo += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        var sum = DNSForwarder.checksum(udp + answer, initial: pseudo)
        if sum == 0 { sum = 0xffff }
        udp[6] = UInt8(sum >> 8)
        udp[7] = UInt8(sum & 0xff)
        f += ip + udp + answer
        // A full tap queue drops the answer, as a wire would: the resolver asks again.
        _ = f.withUnsafeBytes { Glibc.write(tapFD, $0.baseAddress, $0.count) }
    }

    /// The Internet checksum (RFC 1071) of bytes, with a partial sum to start.
    static func checksum(_ bytes: [UInt8], initial: UInt32) -> UInt16 {
        var s = UInt64(initial)
        var i = 0
        while i + 1 < bytes.count {
            s += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt64(bytes[i]) << 8 }
        while s >> 16 != 0 { s = (s & 0xffff) + (s >> 16) }
        return ~UInt16(s)
    }

    func closeAll() {
        for q in pending where q.fd >= 0 { close(q.fd) }
        pending.removeAll()
    }
}
