#if canImport(Glibc)
import Glibc
#endif
import CSlirp
import CoveLinux

/// libslirp behind the tap fd, driven by one poll loop: no threads, no glib
/// main loop. libslirp calls back into `SlirpStack` through the opaque
/// pointer it was given; those calls happen only inside slirp_* calls made
/// from `run`, so the stack's state needs no lock.
final class SlirpStack {
    let tapFD: Int32
    let exitFD: Int32?
    let mtu: Int
    let ipv6: Bool
    var api: ForwardAPI?
    var forwards: HostForwards?
    var dns: DNSForwarder?
    var tcpDNS: DNSTCPProxy?
    var gatewayTCP: GatewayTCP?
    var namespaceWatch: NamespaceWatch?
    private(set) var slirp: OpaquePointer?
    // libslirp keeps the pointer to its callbacks, not a copy.
    private let callbacks = UnsafeMutablePointer<SlirpCb>.allocate(capacity: 1)
    private let timers = SlirpTimers()
    private var pollFDs: [pollfd] = []
    private let frame: UnsafeMutableRawPointer
    private let frameSize: Int

    /// Where libslirp's own DNS forwarder sits when DNSTCPProxy takes
    /// 10.0.2.3: an address of the network nothing else uses.
    static let slirpDNSAddress = IPv4Address(10, 0, 2, 254)

    init(tapFD: Int32, exitFD: Int32?, mtu: Int, allowHostLoopback: Bool, ipv6: Bool,
         nameserver: IPv4Address = DNSForwarder.resolver) throws {
        self.tapFD = tapFD
        self.exitFD = exitFD
        self.mtu = mtu
        self.ipv6 = ipv6
        // A frame is the MTU plus the Ethernet header (14) and a VLAN tag.
        frameSize = mtu + 18
        frame = UnsafeMutableRawPointer.allocate(byteCount: frameSize, alignment: 16)

        callbacks.initialize(to: SlirpCb())
        var cfg = SlirpConfig()
        cfg.version = 3
        cfg.restricted = 0
        cfg.in_enabled = true
        cfg.vnetwork = in_addr(s_addr: IPv4Address(10, 0, 2, 0).raw)
        cfg.vnetmask = in_addr(s_addr: IPv4Address(prefixLength: 24).raw)
        cfg.vhost = in_addr(s_addr: IPv4Address(10, 0, 2, 2).raw)
        cfg.vdhcp_start = in_addr(s_addr: IPv4Address(10, 0, 2, 15).raw)
        cfg.vnameserver = in_addr(s_addr: nameserver.raw)
        cfg.in6_enabled = ipv6
        if ipv6 {
            // slirp4netns --enable-ipv6's network (see TapSetup).
            cfg.vprefix_addr6 = SlirpStack.in6("fd00::")
            cfg.vprefix_len = 64
            cfg.vhost6 = SlirpStack.in6("fd00::2")
            cfg.vnameserver6 = SlirpStack.in6("fd00::3")
        }
        cfg.if_mtu = mtu
        cfg.if_mru = mtu
        cfg.disable_host_loopback = !allowHostLoopback
        cfg.enable_emu = false

        callbacks.pointee.send_packet = { buf, len, opaque in
            SlirpStack.from(opaque)?.sendToTap(buf, len) ?? -1
        }
        callbacks.pointee.guest_error = { msg, _ in
            if let msg { NetLog.error("guest error: \(String(cString: msg))") }
        }
        callbacks.pointee.clock_get_ns = { _ in SlirpTimers.nowNanoseconds() }
        callbacks.pointee.timer_new = { cb, cbOpaque, opaque in
            SlirpStack.from(opaque)?.timers.add(cb, cbOpaque)
        }
        callbacks.pointee.timer_free = { timer, opaque in
            SlirpStack.from(opaque)?.timers.remove(timer)
        }
        callbacks.pointee.timer_mod = { timer, expireMs, opaque in
            SlirpStack.from(opaque)?.timers.modify(timer, expireMs: expireMs)
        }
        // One loop asks slirp for its fds on every turn: nothing to track.
        callbacks.pointee.register_poll_fd = { _, _ in }
        callbacks.pointee.unregister_poll_fd = { _, _ in }
        callbacks.pointee.notify = { _ in }

        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let s = slirp_new(&cfg, callbacks, me) else {
            frame.deallocate()
            callbacks.deallocate()
            throw SyscallError("start libslirp", errno: EINVAL)
        }
        slirp = s
    }

    deinit {
        if let slirp { slirp_cleanup(slirp) }
        frame.deallocate()
        callbacks.deallocate()
    }

    /// Every opaque libslirp hands back is the one given to slirp_new or to
    /// slirp_pollfds_*: this object, alive as long as the Slirp instance.
    static func from(_ opaque: UnsafeMutableRawPointer?) -> SlirpStack? {
        opaque.map { Unmanaged<SlirpStack>.fromOpaque($0).takeUnretainedValue() }
    }

    static func in6(_ text: String) -> in6_addr {
        var a = in6_addr()
        let b = IPAddress(text)?.bytes ?? []
        withUnsafeMutableBytes(of: &a) { dst in for (i, x) in b.enumerated() where i < 16 { dst[i] = x } }
        return a
    }

    private func sendToTap(_ buf: UnsafeRawPointer?, _ len: Int) -> Int {
        while true {
            let n = write(tapFD, buf, len)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            // A full tap queue drops the frame, as a wire would: TCP resends.
            if errno == EAGAIN { return len }
            return -1
        }
    }

    /// Why the loop ended.
    enum Ending: Equatable {
        case processExited
        case namespaceEmpty
        case tapGone(Int32)
    }

    func run() throws -> Ending {
        let me = Unmanaged.passUnretained(self).toOpaque()
        while true {
            pollFDs.removeAll(keepingCapacity: true)
            pollFDs.append(pollfd(fd: tapFD, events: Int16(POLLIN), revents: 0))
            if let exitFD { pollFDs.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            let apiStart = pollFDs.count
            if let api { pollFDs += api.pollEntries() }
            let apiEnd = pollFDs.count
            forwards?.pollEntries(into: &pollFDs)
            let forwardsEnd = pollFDs.count
            dns?.pollEntries(into: &pollFDs)
            let dnsEnd = pollFDs.count
            tcpDNS?.pollEntries(into: &pollFDs)
            let tcpDNSEnd = pollFDs.count
            gatewayTCP?.pollEntries(into: &pollFDs)
            let gatewayEnd = pollFDs.count
            var timeout = timers.millisecondsToNearest() ?? UInt32.max
            let now = SlirpTimers.nowMilliseconds()
            for wait in [api?.millisecondsToDeadline(now: now), forwards?.millisecondsToDeadline(now: now),
                         dns?.millisecondsToDeadline(now: now), namespaceWatch?.millisecondsToDeadline(now: now),
                         gatewayTCP?.millisecondsToDeadline(now: now)] {
                if let wait { timeout = min(timeout, UInt32(clamping: wait)) }
            }
            slirp_pollfds_fill(slirp, &timeout, { fd, events, opaque in
                SlirpStack.from(opaque)?.addPoll(fd, events) ?? -1
            }, me)
            let waitMs = timeout == UInt32.max ? -1 : Int32(min(timeout, 60_000))
            let n = pollFDs.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), waitMs) }
            if n < 0 && errno != EINTR { throw SyscallError("poll") }
            let failed: Int32 = n < 0 ? 1 : 0

            if let exitFD, pollFDs[1].fd == exitFD, pollFDs[1].revents != 0 { return .processExited }
            if let namespaceWatch, namespaceWatch.isEmpty(now: SlirpTimers.nowMilliseconds()) { return .namespaceEmpty }
            if pollFDs[0].revents & Int16(POLLIN) != 0 {
                if let e = readFromTap() { return .tapGone(e) }
            } else if pollFDs[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                return .tapGone(EPIPE)
            }
            slirp_pollfds_poll(slirp, failed, { idx, opaque in
                SlirpStack.from(opaque)?.revents(idx) ?? 0
            }, me)
            forwards?.handle(pollFDs[apiEnd..<forwardsEnd])
            dns?.handle(pollFDs[forwardsEnd..<dnsEnd])
            tcpDNS?.handle(pollFDs[dnsEnd..<tcpDNSEnd])
            gatewayTCP?.handle(pollFDs[tcpDNSEnd..<gatewayEnd])
            // After slirp's turn and the forwards': a forward added or
            // removed here changes slirp's sockets and the forwards' lists,
            // which must not happen between fill and poll.
            if let api, let forwards { api.handle(pollFDs[apiStart..<apiEnd], table: forwards) }
            timers.fireExpired()
        }
    }

    /// Feeds every waiting frame to slirp; an errno when the tap is gone.
    private func readFromTap() -> Int32? {
        // The translated connections' acks: one per connection for the
        // whole batch.
        defer { gatewayTCP?.flush() }
        // Bounded so that a flood from the container cannot starve slirp's
        // own sockets.
        for _ in 0..<256 {
            let n = read(tapFD, frame, frameSize)
            if n > 0 {
                if let dns, dns.intercept(UnsafeRawBufferPointer(start: frame, count: n)) { continue }
                if let gatewayTCP, gatewayTCP.intercept(UnsafeRawBufferPointer(start: frame, count: n)) { continue }
                slirp_input(slirp, frame.assumingMemoryBound(to: UInt8.self), Int32(n))
                continue
            }
            if n == 0 { return EPIPE }
            if errno == EINTR { continue }
            if errno == EAGAIN { return nil }
            return errno
        }
        return nil
    }

    private func addPoll(_ fd: Int32, _ events: Int32) -> Int32 {
        var e: Int16 = 0
        if events & Int32(SLIRP_POLL_IN) != 0 { e |= Int16(POLLIN) }
        if events & Int32(SLIRP_POLL_OUT) != 0 { e |= Int16(POLLOUT) }
        if events & Int32(SLIRP_POLL_PRI) != 0 { e |= Int16(POLLPRI) }
        pollFDs.append(pollfd(fd: fd, events: e, revents: 0))
        return Int32(pollFDs.count - 1)
    }

    private func revents(_ idx: Int32) -> Int32 {
        guard idx >= 0, Int(idx) < pollFDs.count else { return 0 }
        let r = Int32(pollFDs[Int(idx)].revents)
        var out: Int32 = 0
        if r & Int32(POLLIN) != 0 { out |= Int32(SLIRP_POLL_IN) }
        if r & Int32(POLLOUT) != 0 { out |= Int32(SLIRP_POLL_OUT) }
        if r & Int32(POLLPRI) != 0 { out |= Int32(SLIRP_POLL_PRI) }
        if r & Int32(POLLERR | POLLNVAL) != 0 { out |= Int32(SLIRP_POLL_ERR) }
        if r & Int32(POLLHUP) != 0 { out |= Int32(SLIRP_POLL_HUP) }
        return out
    }
}
