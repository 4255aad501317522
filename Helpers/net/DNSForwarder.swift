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
        let frame: DNSFrames.Query
        var payload: [UInt8] { frame.payload }
        var fd: Int32 = -1
        var upstream = 0
        let deadline: Int64
        var retryAt: Int64
        init(_ frame: DNSFrames.Query, now: Int64) {
            self.frame = frame
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

    /// The host's resolvers (see Resolvers.choose).
    static func hostUpstreams() -> [SocketAddress] {
        Resolvers.choose(resolvConf: (try? Files.readText("/etc/resolv.conf")) ?? "",
                         systemdResolvConf: (try? Files.readText("/run/systemd/resolve/resolv.conf")) ?? "")
    }

    /// Takes the frame if it is a UDP query to 10.0.2.3:53; false leaves it
    /// to libslirp.
    func intercept(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard !upstreams.isEmpty else { return false }
        switch DNSFrames.classify(frame, resolver: DNSForwarder.resolver) {
        case .notForUs: return false
        case .malformed: return true
        case let .query(found):
            let now = SlirpTimers.nowMilliseconds()
            if pending.count >= DNSForwarder.maxPending, let oldest = pending.first { drop(oldest) }
            let q = Query(found, now: now)
            if send(q) { pending.append(q) }
            return true
        }
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

    /// The answer back to the asker, on the tap.
    private func reply(_ q: Query, _ answer: [UInt8]) {
        ipID &+= 1
        let f = DNSFrames.reply(to: q.frame, answer: answer, ipID: ipID)
        // A full tap queue drops the answer, as a wire would: the resolver asks again.
        _ = f.withUnsafeBytes { Glibc.write(tapFD, $0.baseAddress, $0.count) }
    }

    func closeAll() {
        for q in pending where q.fd >= 0 { close(q.fd) }
        pending.removeAll()
    }
}
