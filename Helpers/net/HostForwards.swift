#if canImport(Glibc)
import Glibc
#endif
import CSlirp
import CoveLinux

/// The published ports. cove-net owns each forward's host socket itself and
/// decides per client:
///   - a client from a loopback address (127.0.0.0/8, ::1) takes the splice
///     path: the connector opens a socket in the container's namespace bound
///     to that same address, so the server inside sees the client as it
///     was; bytes move by splice(2) (TCP) or per-flow sockets (UDP).
///   - any other client goes through libslirp, whose TCP and UDP keep a
///     non-loopback source address.
/// libslirp cannot take an accepted socket (it only accepts on listeners of
/// its own), so the choice is made by the kernel before accept: two sockets
/// share the address in a SO_REUSEPORT group, ours first and libslirp's
/// second, and a small classic BPF program steers each new connection (or
/// datagram) by its source address. libslirp's socket is one it made for a
/// placeholder forward (127.0.0.1 or ::1, port 0); its fd number is then
/// given the group's second socket with dup3, so libslirp accepts from it
/// and finds it again by its address when the forward is removed.
final class HostForwards: ForwardTable {
    final class Entry {
        let id: Int
        let forward: PortForward
        let socket: Int32
        init(id: Int, forward: PortForward, socket: Int32) {
            self.id = id
            self.forward = forward
            self.socket = socket
        }
    }

    /// A UDP flow of the splice path: one client, one connected socket in
    /// the container's namespace bound to the client's address.
    final class Flow {
        let entry: Entry
        let client: SocketAddress
        let fd: Int32
        var lastUsed: Int64
        init(entry: Entry, client: SocketAddress, fd: Int32, now: Int64) {
            self.entry = entry
            self.client = client
            self.fd = fd
            lastUsed = now
        }
    }

    static let flowIdleMs: Int64 = 120_000
    static let maxFlows = 512

    /// Relays at once: each holds six fds (two sockets, two pipes). The
    /// rest of the fd limit is kept for listeners, UDP flows, DNS queries
    /// and libslirp, so that accept never meets EMFILE (a listener that
    /// cannot accept would stay readable and spin the loop).
    static func relayLimit(openFiles: Int) -> Int { max(16, (openFiles - 1024) / 6) }

    private let maxRelays: Int

    private let slirp: OpaquePointer
    /// nil without ports to publish (see TapSetup.startConnector).
    private let connector: Connector?
    private let slirpIPv6: Bool
    private var entries: [Entry] = []
    private var relays: [SpliceRelay] = []
    private var flows: [Flow] = []
    private var nextID = 1
    private let datagram = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)

    // What the last pollEntries() listed, in order, for handle().
    private var polledEntries: [Entry] = []
    private var polledRelays: [SpliceRelay] = []
    private var polledFlows: [Flow] = []

    init(slirp: OpaquePointer, connector: Connector?, slirpIPv6: Bool, openFiles: Int) {
        maxRelays = HostForwards.relayLimit(openFiles: openFiles)
        self.slirp = slirp
        self.connector = connector
        self.slirpIPv6 = slirpIPv6
    }

    var forwards: [(id: Int, forward: PortForward)] { entries.map { ($0.id, $0.forward) } }

    func addForward(_ f: PortForward) throws -> Int {
        let addr = SocketAddress(f.hostAddress, f.hostPort)
        let what = "publish \(f.udp ? "udp " : "")\(addr) to port \(f.containerPort)"
        // SO_REUSEPORT would let a second forward of ours share the port:
        // refused here as the kernel refuses anyone else.
        if entries.contains(where: { e in
            e.forward.udp == f.udp && e.forward.hostPort == f.hostPort && e.forward.hostAddress.family == f.hostAddress.family
                && (e.forward.hostAddress == f.hostAddress || e.forward.hostAddress.isUnspecified || f.hostAddress.isUnspecified)
        }) {
            throw SyscallError(what, errno: EADDRINUSE)
        }
        // Nor may another cove-net (another container's) join our group, or
        // we its: a plain bind must be able to take the port first.
        if case let .failure(e) = InetSockets.probeBind(udp: f.udp, addr) { throw SyscallError(what, errno: e.errno) }
        let mine: Int32
        do { mine = try InetSockets.bind(udp: f.udp, addr) } catch let e as SyscallError {
            throw SyscallError(what, errno: e.errno)
        }
        do {
            if !f.hostAddress.isIPv6 || slirpIPv6 { try giveSlirpASocket(f, addr) }
            try InetSockets.steerLoopbackFirst(mine, describe: addr.description)
        } catch {
            close(mine)
            _ = removeFromSlirp(f)
            throw error
        }
        let id = nextID
        nextID += 1
        entries.append(Entry(id: id, forward: f, socket: mine))
        return id
    }

    /// libslirp's placeholder forward, then its socket replaced by the
    /// group's second member (see the type's comment).
    private func giveSlirpASocket(_ f: PortForward, _ addr: SocketAddress) throws {
        let placeholder = SocketAddress(f.hostAddress.isIPv6 ? IPAddress.loopback6 : IPAddress.loopback4, 0)
        let guest = f.hostAddress.isIPv6 ? SocketAddress(ContainerTap.address6 ?? .loopback6, f.containerPort)
                                         : SocketAddress(IPAddress(ContainerTap.address), f.containerPort)
        var flags: Int32 = f.udp ? Int32(SLIRP_HOSTFWD_UDP) : 0
        if f.hostAddress.isIPv6 { flags |= Int32(SLIRP_HOSTFWD_V6ONLY) }
        // Single-threaded, and libslirp's first new fd is that socket's: the
        // lowest free number now is the one it will get.
        let expected = InetSockets.lowestFreeFD()
        errno = 0
        let rc = placeholder.withSockaddr { h, hl in
            guest.withSockaddr { g, gl in slirp_add_hostxfwd(slirp, h, hl, g, gl, flags) }
        }
        if rc < 0 {
            let e = errno
            throw SyscallError("publish \(addr) through libslirp", errno: e == 0 ? EIO : e)
        }
        guard expected >= 0, let bound = InetSockets.localAddress(expected), bound.ip == placeholder.ip, bound.port != 0 else {
            throw SyscallError("publish \(addr): libslirp's socket is not where expected", errno: EPROTO)
        }
        let second: Int32
        do { second = try InetSockets.bind(udp: f.udp, addr) } catch {
            removePlaceholder(bound, udp: f.udp)
            throw error
        }
        defer { close(second) }
        do { try InetSockets.dup(second, onto: expected) } catch {
            removePlaceholder(bound, udp: f.udp)
            throw error
        }
    }

    private func removePlaceholder(_ a: SocketAddress, udp: Bool) {
        _ = a.withSockaddr { slirp_remove_hostxfwd(slirp, $0, $1, udp ? Int32(SLIRP_HOSTFWD_UDP) : 0) }
    }

    private func removeFromSlirp(_ f: PortForward) -> Bool {
        let a = SocketAddress(f.hostAddress, f.hostPort)
        return a.withSockaddr { slirp_remove_hostxfwd(slirp, $0, $1, f.udp ? Int32(SLIRP_HOSTFWD_UDP) : 0) } == 0
    }

    func removeForward(id: Int) throws {
        guard let i = entries.firstIndex(where: { $0.id == id }) else {
            throw SyscallError("remove port forward \(id)", errno: ENOENT)
        }
        let e = entries.remove(at: i)
        if !e.forward.hostAddress.isIPv6 || slirpIPv6 { _ = removeFromSlirp(e.forward) }
        close(e.socket)
        // Connections already made go on, as libslirp's do; UDP flows
        // answer through the forward's socket, so they end with it.
        for fl in flows where fl.entry === e { close(fl.fd) }
        flows.removeAll { $0.entry === e }
    }

    func closeAll() {
        for r in relays { r.reset() }
        relays.removeAll()
        for fl in flows { close(fl.fd) }
        flows.removeAll()
        for e in entries { close(e.socket) }
        entries.removeAll()
    }

    // MARK: the poll loop

    func pollEntries(into p: inout [pollfd]) {
        polledEntries = entries
        polledRelays = relays
        polledFlows = flows
        for e in polledEntries { p.append(pollfd(fd: e.socket, events: Int16(POLLIN), revents: 0)) }
        for r in polledRelays {
            let (c, s) = r.pollEntries()
            p.append(c)
            p.append(s)
        }
        for f in polledFlows { p.append(pollfd(fd: f.fd, events: Int16(POLLIN), revents: 0)) }
    }

    func millisecondsToDeadline(now: Int64) -> Int64? {
        flows.map(\.lastUsed).min().map { max(0, $0 + HostForwards.flowIdleMs - now) }
    }

    func handle(_ polled: ArraySlice<pollfd>) {
        var i = polled.startIndex
        let now = SlirpTimers.nowMilliseconds()
        var readable: [Entry] = []
        for e in polledEntries {
            if polled[i].revents != 0 { readable.append(e) }
            i += 1
        }
        for r in polledRelays {
            r.handle(client: polled[i].revents, server: polled[i + 1].revents)
            i += 2
        }
        for f in polledFlows {
            if polled[i].revents != 0 { answer(f, now: now) }
            i += 1
        }
        relays.removeAll { $0.closed }
        // After the relays: entries removed by the API in between are gone
        // from `entries`, and their sockets must not be touched.
        for e in readable where entries.contains(where: { $0 === e }) {
            if e.forward.udp { receive(e, now: now) } else { acceptAll(e) }
        }
        for f in flows where now - f.lastUsed >= HostForwards.flowIdleMs { close(f.fd) }
        flows.removeAll { now - $0.lastUsed >= HostForwards.flowIdleMs }
    }

    /// The container's loopback address of the client's family.
    private func target(_ client: SocketAddress, _ f: PortForward) -> SocketAddress {
        SocketAddress(client.ip.isIPv6 ? .loopback6 : .loopback4, f.containerPort)
    }

    private func acceptAll(_ e: Entry) {
        for _ in 0..<64 {
            let got: (Int32, SocketAddress)?
            do { got = try InetSockets.accept(e.socket) } catch {
                NetLog.error("\(error)")
                return
            }
            guard let (client, peer) = got else { return }
            if relays.count >= maxRelays {
                InetSockets.closeWithReset(client)
                continue
            }
            let opened: (fd: Int32, errno: Int32)
            do {
                opened = try openInside(.init(udp: false, from: SocketAddress(peer.ip, 0), to: target(peer, e.forward)))
            } catch {
                NetLog.error("\(error)")
                InetSockets.closeWithReset(client)
                continue
            }
            if opened.fd < 0 {
                // Refused inside: the client learns it as a reset, as a
                // closed port would answer.
                InetSockets.closeWithReset(client)
                continue
            }
            do { relays.append(try SpliceRelay(client: client, server: opened.fd)) } catch {
                NetLog.error("\(error)")
                InetSockets.closeWithReset(client)
                InetSockets.closeWithReset(opened.fd)
            }
        }
    }

    /// A socket in the container's namespace, by the connector.
    private func openInside(_ r: Connector.Request) throws -> (fd: Int32, errno: Int32) {
        guard let connector else { throw SyscallError("reach the container's namespace: no connector", errno: ENOTCONN) }
        return try connector.open(r)
    }

    private func receive(_ e: Entry, now: Int64) {
        for _ in 0..<64 {
            let (n, client) = InetSockets.receive(e.socket, datagram)
            if n < 0 { return }
            let flow: Flow
            if let f = flows.first(where: { $0.entry === e && $0.client == client }) {
                flow = f
            } else {
                let opened: (fd: Int32, errno: Int32)
                do {
                    opened = try openInside(.init(udp: true, from: SocketAddress(client.ip, 0), to: target(client, e.forward)))
                } catch {
                    NetLog.error("\(error)")
                    return
                }
                guard opened.fd >= 0 else { continue }
                if flows.count >= HostForwards.maxFlows, let oldest = flows.min(by: { $0.lastUsed < $1.lastUsed }) {
                    close(oldest.fd)
                    flows.removeAll { $0 === oldest }
                }
                flow = Flow(entry: e, client: client, fd: opened.fd, now: now)
                flows.append(flow)
            }
            flow.lastUsed = now
            // A datagram the container's side cannot take now is dropped,
            // as the network would.
            _ = Glibc.send(flow.fd, datagram.baseAddress, n, Int32(MSG_NOSIGNAL))
        }
    }

    private func answer(_ f: Flow, now: Int64) {
        for _ in 0..<64 {
            let n = Glibc.recv(f.fd, datagram.baseAddress, datagram.count, 0)
            if n < 0 { return }
            f.lastUsed = now
            _ = InetSockets.send(f.entry.socket, UnsafeRawBufferPointer(rebasing: datagram[0..<n]), to: f.client)
        }
    }
}
