#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// TCP translation for connections the container opens to the gateway
/// 10.0.2.2 when the host's loopback is allowed: their frames are taken
/// from the tap before libslirp sees them, and each connection is carried
/// by a host socket connected to 127.0.0.1 on the same port. This side
/// speaks TCP to the container itself (as pasta does): window scaling, a
/// window as large as the host socket's free send space, one ack per
/// batch of frames, and data to the container peeked from the host socket
/// (SO_PEEK_OFF) and dropped from it only once the container acked it, so
/// a lost frame is sent again from the socket. libslirp's TCP has none of
/// that: a 64 KiB window without scaling, an ack per segment.
final class GatewayTCP {
    /// 10.0.2.2 in host byte order.
    static let gatewayHost: UInt32 = 0x0a00_0202
    /// Our window scale: up to 8 MiB advertised (65535 << 7).
    static let windowScale: UInt8 = 7
    /// Frames sent to the container for one connection in one turn.
    static let framesPerPush = 64
    static let initialRTOMs: Int64 = 200
    static let maxRTOMs: Int64 = 8_000
    /// Timeouts in a row without the container acknowledging anything
    /// before the connection is reset (about a minute with the backoff).
    static let maxRetries = 12
    /// Bytes from the container kept for a host socket that took less
    /// than the window promised (see hold).
    static let maxHeld = 16 << 20
    /// And for all connections together: a container that ignores the
    /// window towards slow listeners cannot make cove-net hold more.
    static let maxHeldTotal = 64 << 20
    /// Bytes held now, all connections (held minus heldStart of each).
    private var heldTotal = 0

    enum State { case connecting, synReceived, established }

    /// COVE_NET_GATEWAY_TCP=slirp hands the gateway's TCP back to libslirp
    /// (for comparisons, or should this path misbehave somewhere).
    static var enabledByEnvironment: Bool {
        guard let v = getenv("COVE_NET_GATEWAY_TCP") else { return true }
        return String(cString: v) != "slirp"
    }

    final class Connection {
        let key: UInt64
        let fd: Int32
        let ends: TCPEndpoints
        var state = State.connecting
        let containerISN: UInt32
        /// Next sequence number expected from the container.
        var rcvNxt: UInt32
        let iss: UInt32
        /// Oldest byte the container has not acknowledged; next to send;
        /// the furthest ever sent.
        var sndUna: UInt32
        var sndNxt: UInt32
        var sndMax: UInt32
        /// The container's window in bytes, and its scale.
        var sndWnd = 0
        let sndShift: UInt8
        /// Our scale, 0 when the container offered none (RFC 7323 §1.3).
        let rcvShift: UInt8
        let mss: Int
        var containerFIN = false
        var hostEOF = false
        var finSent = false
        var finSeq: UInt32 = 0
        var finAcked = false
        var dupAcks = 0
        /// After a retransmission, the furthest sent then: duplicate acks
        /// count again only once the container acknowledged past it
        /// (RFC 6582's "recover"), so that the duplicates a go-back
        /// resend causes do not set off another one.
        var recover: UInt32 = 0
        var rto = GatewayTCP.initialRTOMs
        var retries = 0
        var deadline: Int64?
        /// A write to the host socket was short: what it did not take is
        /// held here (from heldStart on) until it polls writable.
        var wantWrite = false
        var held: [UInt8] = []
        var heldStart = 0
        var ackPending = false
        /// Data was dropped (out of order, or beyond maxHeld): a few
        /// identical acks make the container retransmit at once (fast
        /// retransmit) rather than at its timeout.
        var nudge = false
        var pushPending = false
        var queued = false
        var closed = false

        init(key: UInt64, fd: Int32, _ syn: TCPSegment, mtu: Int, iss: UInt32) {
            self.key = key
            self.fd = fd
            ends = TCPEndpoints(syn)
            containerISN = syn.seq
            rcvNxt = syn.seq &+ 1
            self.iss = iss
            recover = iss
            sndUna = iss
            sndNxt = iss
            sndMax = iss
            if let s = syn.windowScale {
                sndShift = s
                rcvShift = GatewayTCP.windowScale
            } else {
                sndShift = 0
                rcvShift = 0
            }
            mss = max(536, min(Int(syn.mss ?? 536), mtu - 40))
        }

        /// Both directions ended and acknowledged, nothing held back.
        var done: Bool { containerFIN && finAcked && held.isEmpty }

        /// Room in the container's window for more data.
        var room: Int { TCPSeq.distance(from: sndNxt, to: sndUna &+ UInt32(truncatingIfNeeded: sndWnd)) }
    }

    let tapFD: Int32
    let mtu: Int
    let maxConnections: Int
    private var connections: [UInt64: Connection] = [:]
    private let events: EdgeTriggeredSet
    /// Connections with an ack, a push or a nudge waiting for flush().
    private var dirty: [Connection] = []
    private var flushing: [Connection] = []
    private let out: UnsafeMutableRawPointer
    private let outCount: Int
    private var ipID: UInt16 = 1
    private var issSeed: UInt32

    /// nil where the kernel cannot peek at an offset into a TCP socket
    /// (SO_PEEK_OFF, Linux 6.9): the gateway's TCP then stays libslirp's.
    init?(tapFD: Int32, mtu: Int, openFiles: Int) {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return nil }
        let peeks = InetSockets.setPeekOffset(probe, 0)
        close(probe)
        guard peeks, let set = try? EdgeTriggeredSet() else { return nil }
        events = set
        self.tapFD = tapFD
        self.mtu = mtu
        maxConnections = max(16, min(4096, openFiles / 4))
        outCount = mtu + 14 + 64
        out = UnsafeMutableRawPointer.allocate(byteCount: outCount, alignment: 16)
        issSeed = UInt32.random(in: 0...UInt32.max)
    }

    deinit { out.deallocate() }

    // MARK: frames from the container

    /// Takes the frame if it is TCP to the gateway; false leaves it to libslirp.
    func intercept(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let s = TCPFrames.parse(frame, to: GatewayTCP.gatewayHost) else { return false }
        let key = UInt64(s.source) << 32 | UInt64(s.sourcePort) << 16 | UInt64(s.destinationPort)
        if let c = connections[key] {
            segment(s, frame, on: c)
        } else if s.flags.contains(.syn) && !s.flags.contains(.ack) && !s.flags.contains(.rst) {
            open(s, key: key)
        } else if !s.flags.contains(.rst) {
            refuse(s)
        }
        return true
    }

    /// A reset for a segment of no connection (RFC 793, "reset generation").
    private func refuse(_ s: TCPSegment) {
        let e = TCPEndpoints(s)
        if s.flags.contains(.ack) {
            send(e, seq: s.ack, ack: 0, flags: .rst, window: 0)
        } else {
            send(e, seq: 0, ack: s.seq &+ UInt32(s.length), flags: [.rst, .ack], window: 0)
        }
    }

    private func open(_ s: TCPSegment, key: UInt64) {
        guard connections.count < maxConnections else { return refuse(s) }
        let (fd, _) = InetSockets.connect(udp: false, from: nil, to: SocketAddress(.loopback4, s.destinationPort))
        // Refused at once (nothing listens): the container sees a reset,
        // as a closed port answers.
        guard fd >= 0 else { return refuse(s) }
        guard InetSockets.setPeekOffset(fd, 0) else {
            close(fd)
            return refuse(s)
        }
        InetSockets.noDelay(fd)
        guard events.add(fd, key: key) else {
            close(fd)
            return refuse(s)
        }
        issSeed = issSeed &* 1_664_525 &+ 1_013_904_223
        let c = Connection(key: key, fd: fd, s, mtu: mtu, iss: issSeed)
        connections[key] = c
    }

    /// The host socket's connect finished (POLLOUT while connecting).
    private func connected(_ c: Connection) {
        if InetSockets.pendingError(c.fd) != 0 {
            send(c.ends, seq: 0, ack: c.rcvNxt, flags: [.rst, .ack], window: 0)
            drop(c, reset: false)
            return
        }
        c.state = .synReceived
        sendSynAck(c)
    }

    private func sendSynAck(_ c: Connection) {
        let options = TCPFrames.synOptions(mss: UInt16(mtu - 40), windowScale: c.rcvShift == 0 ? nil : c.rcvShift)
        let window = UInt16(min(65535, max(0, InetSockets.sendRoom(c.fd))))
        send(c.ends, seq: c.iss, ack: c.rcvNxt, flags: [.syn, .ack], window: window, options: options)
        c.sndNxt = c.iss &+ 1
        c.sndMax = c.sndNxt
    }

    private func segment(_ s: TCPSegment, _ frame: UnsafeRawBufferPointer, on c: Connection) {
        if s.flags.contains(.rst) {
            // Within the window only (RFC 5961 §3): a stale reset is ignored.
            if TCPSeq.distance(from: c.rcvNxt, to: s.seq) >= 0 || c.state != .established { drop(c, reset: true) }
            return
        }
        if s.flags.contains(.syn) {
            if s.seq == c.containerISN {
                // The container asks again: our SYN-ACK (or its ack) was lost.
                if c.state == .synReceived { sendSynAck(c) } else if c.state == .established { mark(c) { $0.ackPending = true } }
                return
            }
            // A new connection on the same ports: the old one is gone.
            drop(c, reset: true)
            open(s, key: c.key)
            return
        }
        guard c.state != .connecting else { return }
        if s.flags.contains(.ack) { acknowledged(s, on: c) }
        if c.closed { return }
        if s.payloadCount > 0 || s.flags.contains(.fin) {
            data(s, frame, on: c)
        } else if s.seq != c.rcvNxt {
            // A window probe or a keepalive (one before rcvNxt): answered
            // with an ack, as RFC 793 answers any unacceptable segment.
            mark(c) { $0.ackPending = true }
        }
        // An ending connection closes in flush(), once its last ack is out.
        if c.done { queue(c) }
    }

    private func acknowledged(_ s: TCPSegment, on c: Connection) {
        if c.state == .synReceived {
            guard s.ack == c.iss &+ 1 else { return }
            c.state = .established
            c.sndUna = s.ack
            c.mark(pushPending: true)
        }
        let window = Int(s.window) << Int(c.sndShift)
        let windowChanged = window != c.sndWnd
        let opened = window > c.sndWnd
        c.sndWnd = window
        let advance = TCPSeq.distance(from: c.sndUna, to: s.ack)
        if advance > 0 && TCPSeq.lessOrEqual(s.ack, c.sndMax) {
            var bytes = advance
            if c.finSent && TCPSeq.lessThan(c.finSeq, s.ack) {
                bytes -= 1
                c.finAcked = true
            }
            if bytes > 0 { discard(c, bytes) }
            c.sndUna = s.ack
            if TCPSeq.lessThan(c.sndNxt, s.ack) {
                // Acked beyond a rewind: what was sent before it arrived.
                c.sndNxt = s.ack
                _ = InetSockets.setPeekOffset(c.fd, 0)
            }
            c.dupAcks = 0
            c.retries = 0
            c.rto = GatewayTCP.initialRTOMs
            c.deadline = c.sndUna == c.sndNxt ? nil : SlirpTimers.nowMilliseconds() + c.rto
            c.mark(pushPending: true)
        } else if advance == 0 && s.payloadCount == 0 && !s.flags.contains(.fin) && !windowChanged && c.sndNxt != c.sndUna {
            c.dupAcks += 1
            if c.dupAcks == 3 && TCPSeq.lessOrEqual(c.recover, c.sndUna) { retransmit(c) }
        } else if opened {
            c.mark(pushPending: true)
        }
        if c.pushPending { queue(c) }
    }

    /// Drops `count` bytes the container has acknowledged from the host
    /// socket; MSG_TRUNC discards them without a copy.
    private func discard(_ c: Connection, _ count: Int) {
        var left = count
        for _ in 0..<4 where left > 0 {
            let n = recv(c.fd, nil, left, Int32(MSG_TRUNC) | Int32(MSG_DONTWAIT))
            if n <= 0 { break }
            left -= n
        }
    }

    private func data(_ s: TCPSegment, _ frame: UnsafeRawBufferPointer, on c: Connection) {
        mark(c) { $0.ackPending = true }
        if c.containerFIN { return }
        let offset = TCPSeq.distance(from: c.rcvNxt, to: s.seq)
        if offset > 0 {
            // Out of order: dropped; the container sends it again.
            c.nudge = true
            return
        }
        let skip = -offset
        if skip < s.payloadCount, let base = frame.baseAddress {
            let start = base + s.payloadOffset + skip
            let count = s.payloadCount - skip
            if c.held.isEmpty {
                let n = Glibc.send(c.fd, start, count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                if n < 0 && errno != EAGAIN && errno != EINTR { return abort(c) }
                let taken = max(0, n)
                c.rcvNxt = c.rcvNxt &+ UInt32(taken)
                if taken < count {
                    if !hold(c, start + taken, count - taken) { return }
                }
            } else if !hold(c, start, count) {
                return
            }
        }
        if s.flags.contains(.fin) && skip <= s.payloadCount {
            c.rcvNxt = c.rcvNxt &+ 1
            c.containerFIN = true
            if c.held.isEmpty { shutdown(c.fd, Int32(SHUT_WR)) }
        }
    }

    /// Keeps bytes the host socket did not take, to write once it polls
    /// writable. They were inside the window advertised (the socket's
    /// free space is an estimate: its buffer counts overhead too), so
    /// they are acknowledged like the rest: dropping them would make the
    /// container fall back to retransmission, one segment per round trip
    /// without SACK, and stall on its timeouts. Bounded: beyond
    /// maxHeld they are dropped after all.
    private func hold(_ c: Connection, _ p: UnsafeRawPointer, _ count: Int) -> Bool {
        guard c.held.count + count <= GatewayTCP.maxHeld, heldTotal + count <= GatewayTCP.maxHeldTotal else {
            c.nudge = true
            return false
        }
        heldTotal += count
        c.held.append(contentsOf: UnsafeRawBufferPointer(start: p, count: count))
        c.rcvNxt = c.rcvNxt &+ UInt32(count)
        c.wantWrite = true
        return true
    }

    /// Writes what was held; true once none is left.
    private func writeHeld(_ c: Connection) -> Bool {
        while c.heldStart < c.held.count {
            let n = c.held.withUnsafeBytes { b -> Int in
                guard let base = b.baseAddress else { return 0 }
                return Glibc.send(c.fd, base + c.heldStart, b.count - c.heldStart, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n <= 0 {
                if n < 0 && errno != EAGAIN && errno != EINTR { abort(c) }
                return false
            }
            c.heldStart += n
            heldTotal -= n
        }
        c.held.removeAll(keepingCapacity: false)
        c.heldStart = 0
        c.wantWrite = false
        if c.containerFIN { shutdown(c.fd, Int32(SHUT_WR)) }
        return true
    }

    // MARK: data to the container

    /// Sends what the host socket holds, as far as the container's window
    /// goes; the host's end of data becomes a FIN once everything before
    /// it has been sent.
    private func push(_ c: Connection) {
        guard c.state == .established, !c.closed else { return }
        let payload = out + TCPFrames.headerCount
        // One window for the whole push: the socket's room changes only
        // with what the container sends, and that is read after.
        let window = windowField(c)
        var sent = 0
        while sent < GatewayTCP.framesPerPush && !c.finSent {
            let room = c.room
            let n: Int
            if room > 0 {
                n = recv(c.fd, payload, min(c.mss, room, outCount - TCPFrames.headerCount), Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
            } else if c.hostEOF {
                // The FIN needs no window, only that nothing is left to send.
                n = recv(c.fd, payload, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
                if n > 0 {
                    _ = InetSockets.setPeekOffset(c.fd, TCPSeq.distance(from: c.sndUna, to: c.sndNxt))
                    break
                }
            } else {
                break
            }
            if n > 0 {
                let seq = c.sndNxt
                let len = TCPFrames.build(into: out, c.ends, seq: seq, ack: c.rcvNxt, flags: [.ack, .psh],
                                          window: window, payloadCount: n, ipID: nextID())
                if !writeTap(len) {
                    // The tap's queue is full: this frame never left, so
                    // the next peek starts with it again.
                    _ = InetSockets.setPeekOffset(c.fd, TCPSeq.distance(from: c.sndUna, to: seq))
                    break
                }
                c.sndNxt = seq &+ UInt32(n)
                if TCPSeq.lessThan(c.sndMax, c.sndNxt) { c.sndMax = c.sndNxt }
                c.ackPending = false
                sent += 1
            } else if n == 0 {
                c.hostEOF = true
                c.finSeq = c.sndNxt
                guard send(c.ends, seq: c.finSeq, ack: c.rcvNxt, flags: [.fin, .ack], window: window) else { break }
                c.finSent = true
                c.sndNxt = c.finSeq &+ 1
                if TCPSeq.lessThan(c.sndMax, c.sndNxt) { c.sndMax = c.sndNxt }
                c.ackPending = false
                sent += 1
            } else {
                if errno != EAGAIN && errno != EINTR { return abort(c) }
                break
            }
        }
        if sent > 0 && c.deadline == nil { c.deadline = SlirpTimers.nowMilliseconds() + c.rto }
        // The window kept more back than this turn sent: next turn goes on.
        if sent == GatewayTCP.framesPerPush { c.mark(pushPending: true) }
    }

    /// Sends again from the oldest unacknowledged byte.
    private func retransmit(_ c: Connection) {
        c.recover = c.sndMax
        c.sndNxt = c.sndUna
        _ = InetSockets.setPeekOffset(c.fd, 0)
        if c.finSent && !c.finAcked { c.finSent = false }
        c.dupAcks = 0
        c.deadline = nil
        c.mark(pushPending: true)
        queue(c)
    }

    // MARK: acks, after each batch

    /// Sends what a batch of frames or a turn of the loop left waiting:
    /// data, then one ack per connection that still needs one.
    func flush() {
        // Two lists taking turns: what this flush queues again goes to the
        // other, and neither is reallocated.
        swap(&dirty, &flushing)
        defer { flushing.removeAll(keepingCapacity: true) }
        for c in flushing {
            c.queued = false
            guard !c.closed else { continue }
            if c.pushPending {
                c.pushPending = false
                push(c)
                if c.pushPending { queue(c) }
            }
            if c.closed { continue }
            if c.ackPending || c.nudge {
                let window = windowField(c)
                for _ in 0..<(c.nudge ? 4 : 1) {
                    send(c.ends, seq: c.sndNxt, ack: c.rcvNxt, flags: .ack, window: window)
                }
                c.ackPending = false
                c.nudge = false
            }
            if c.done { finish(c) }
        }
    }

    /// The window to advertise: what the host socket can still take, less
    /// what is held for it. Never closed while nothing is held: a window
    /// closed on an estimate would stay closed, as nothing here learns
    /// when the socket drains (it signals writable only after a write it
    /// could not take). Open, the container's next segment either goes
    /// in or is held, and a held byte means a wakeup once there is room,
    /// and with it a window update.
    private func windowField(_ c: Connection) -> UInt16 {
        let free = InetSockets.sendRoom(c.fd)
        let room = c.held.isEmpty ? max(free, 2 * c.mss) : max(0, free - (c.held.count - c.heldStart))
        return UInt16(min(65535, room >> Int(c.rcvShift)))
    }

    private func queue(_ c: Connection) {
        if !c.queued {
            c.queued = true
            dirty.append(c)
        }
    }

    private func mark(_ c: Connection, _ change: (Connection) -> Void) {
        change(c)
        queue(c)
    }

    // MARK: the poll loop

    /// One entry: the edge-triggered set of every connection's host socket.
    /// poll(2) alone cannot serve them: a socket holding bytes peeked but
    /// not yet acknowledged by the container polls readable all along, and
    /// the loop would spin until the acks come.
    func pollEntries(into p: inout [pollfd]) {
        p.append(pollfd(fd: events.fd, events: Int16(POLLIN), revents: 0))
    }

    func millisecondsToDeadline(now: Int64) -> Int64? {
        // Work left for the next turn (a push cut short by its bound):
        // no sleeping in poll.
        if !dirty.isEmpty { return 0 }
        var nearest: Int64?
        for c in connections.values {
            if let d = c.deadline { nearest = min(nearest ?? d, d) }
        }
        return nearest.map { max(0, $0 - now) }
    }

    func handle(_ revents: ArraySlice<pollfd>) {
        if let p = revents.first, p.revents != 0 {
            // Bounded: what is left waits for the next turn (the set's fd
            // stays readable meanwhile).
            for _ in 0..<16 {
                var got = 0
                events.ready { key, r in
                    got += 1
                    if let c = connections[key] { hostEvent(Int32(bitPattern: r), on: c) }
                }
                if got < 64 { break }
            }
        }
        let now = SlirpTimers.nowMilliseconds()
        for c in connections.values {
            guard let d = c.deadline, d <= now, !c.closed else { continue }
            c.retries += 1
            if c.retries > GatewayTCP.maxRetries {
                abort(c)
                continue
            }
            c.rto = min(c.rto * 2, GatewayTCP.maxRTOMs)
            retransmit(c)
        }
        flush()
    }

    private func hostEvent(_ r: Int32, on c: Connection) {
        guard !c.closed else { return }
        if c.state == .connecting {
            if r & Int32(POLLOUT | POLLERR | POLLHUP) != 0 { connected(c) }
            return
        }
        if r & Int32(POLLERR) != 0, InetSockets.pendingError(c.fd) != 0 { return abort(c) }
        if r & Int32(POLLOUT) != 0 && c.wantWrite {
            // Room again: what was held goes, and the window opens.
            if writeHeld(c) { mark(c) { $0.ackPending = true } }
            if c.closed { return }
        }
        if r & Int32(POLLIN | POLLHUP) != 0 || r & 0x2000 != 0 { mark(c) { $0.pushPending = true } }
    }

    // MARK: endings

    /// Both directions ended and acknowledged: a normal close.
    /// What a connection that goes still held no longer counts.
    private func release(_ c: Connection) {
        heldTotal -= c.held.count - c.heldStart
        c.held.removeAll(keepingCapacity: false)
        c.heldStart = 0
    }

    private func finish(_ c: Connection) {
        guard !c.closed else { return }
        c.closed = true
        release(c)
        close(c.fd)
        connections[c.key] = nil
    }

    /// The host side failed: both ends reset.
    private func abort(_ c: Connection) {
        guard !c.closed else { return }
        send(c.ends, seq: c.sndNxt, ack: c.rcvNxt, flags: [.rst, .ack], window: 0)
        drop(c, reset: true)
    }

    private func drop(_ c: Connection, reset: Bool) {
        guard !c.closed else { return }
        c.closed = true
        release(c)
        if reset { InetSockets.closeWithReset(c.fd) } else { close(c.fd) }
        connections[c.key] = nil
    }

    func closeAll() {
        for c in connections.values { drop(c, reset: true) }
        connections.removeAll()
        dirty.removeAll()
    }

    // MARK: frames to the container

    private func nextID() -> UInt16 {
        ipID &+= 1
        return ipID
    }

    @discardableResult
    private func send(_ e: TCPEndpoints, seq: UInt32, ack: UInt32, flags: TCPFlags, window: UInt16,
                      options: [UInt8] = []) -> Bool {
        let len = TCPFrames.build(into: out, e, seq: seq, ack: ack, flags: flags, window: window, options: options,
                                  payloadCount: 0, ipID: nextID())
        return writeTap(len)
    }

    /// False when the frame was not sent (a full tap queue drops it, as a
    /// wire would).
    private func writeTap(_ len: Int) -> Bool {
        for _ in 0..<4 {
            let n = write(tapFD, out, len)
            if n >= 0 { return true }
            if errno != EINTR { return false }
        }
        return false
    }
}

extension GatewayTCP.Connection {
    func mark(pushPending p: Bool) { pushPending = pushPending || p }
}
