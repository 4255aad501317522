#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// cove-net: userspace networking for one container. tap0 in the
/// container's network namespace comes from the container's init (with
/// --tap-channel) or from a child that joins the namespace and hands back
/// its fd; this process stays in the host's namespaces and runs libslirp
/// behind it in one poll loop until the container's process exits or the
/// tap goes away.
func main() -> Int32 {
    var args: NetArguments
    do { args = try NetArguments(Array(CommandLine.arguments.dropFirst())) } catch {
        NetLog.error("\(error)")
        return 2
    }
    if args.help {
        print(NetArguments.usage)
        return 0
    }
    // setns into a user namespace fails in a multithreaded process, and the
    // tap child or connector is forked from this one.
    let threads = Environment.threadCount()
    if threads != 1 {
        NetLog.error("refusing to run with \(threads) threads: cove-net must be single-threaded")
        return 1
    }
    // A peer that vanishes mid-write must not kill the loop.
    signal(SIGPIPE, SIG_IGN)
    // Until the network is up, a failure goes to the container's init
    // (which reports it as the container's start failing).
    var reportTo = args.tapChannel.map { SyncChannel(fd: $0) }
    do {
        if args.ociHook, let pasta = args.pasta {
            try OCIHook.readState(&args)
            return try PastaHook.run(pasta: pasta, args)
        }
        if args.ociHook { try OCIHook.detach(&args) }
        var handoff: TapHandoff?
        if let channel = reportTo {
            args = try NetArguments(try TapHandoff.receiveArguments(channel) + ["--tap-channel", String(channel.fd)])
            handoff = try TapHandoff.receive(channel)
        }
        // The pidfd first: opened before setup, it catches an exit during it.
        // Without --pid the tap fd (the tun socket's reference) and the
        // connector keep the network namespace alive, so its end cannot be
        // seen: NamespaceWatch looks for its last process instead.
        let exitFD = try handoff?.pidFD ?? args.pid.map { try Processes.openPidFD($0) }
        let tap: Int32
        let connector: Connector?
        if let h = handoff {
            // The tap is init's; a connector only for ports to publish.
            defer { close(h.userFD); close(h.netFD) }
            tap = h.tapFD
            connector = args.publish.isEmpty && args.apiSocket == nil ? nil
                : try TapSetup.startConnector(userFD: h.userFD, netFD: h.netFD, closeInChild: [h.pidFD, h.channel.fd, tap])
        } else {
            (tap, connector) = try TapSetup.openTap(netns: args.netns, userns: args.userns, mtu: args.mtu,
                                                     ipv6: args.enableIPv6, persistent: args.ociHook,
                                                     closeInChild: [exitFD, args.readyFD].compactMap { $0 })
        }
        // The connector lives in the container's namespaces, not its PID
        // namespace: it ends with cove-net, here or by its parent-death signal.
        defer { connector?.stop() }
        Processes.setName("cove-net")
        let upstreams = args.dnsUpstreams.isEmpty ? DNSForwarder.hostUpstreams() : args.dnsUpstreams
        // With upstreams of our own, TCP queries to 10.0.2.3 go to them too
        // (see DNSTCPProxy); without any, libslirp's forwarder keeps it.
        let tcpDNS = upstreams.isEmpty ? nil : try DNSTCPProxy(upstreams: upstreams, near: args.record)
        defer { tcpDNS?.closeAll() }
        let stack = try SlirpStack(tapFD: tap, exitFD: exitFD, mtu: args.mtu,
                                   allowHostLoopback: args.allowHostLoopback, ipv6: args.enableIPv6,
                                   nameserver: tcpDNS == nil ? DNSForwarder.resolver : SlirpStack.slirpDNSAddress)
        guard let slirp = stack.slirp else { throw SyscallError("start libslirp", errno: EINVAL) }
        if let tcpDNS {
            try tcpDNS.attach(to: slirp, address: DNSForwarder.resolver)
            stack.tcpDNS = tcpDNS
        }
        // TCP to the gateway (the host's loopback) translated here rather
        // than by libslirp (see GatewayTCP); COVE_NET_GATEWAY_TCP=slirp
        // leaves it to libslirp.
        if args.allowHostLoopback, GatewayTCP.enabledByEnvironment {
            stack.gatewayTCP = GatewayTCP(tapFD: tap, mtu: args.mtu, openFiles: raiseOpenFileLimit())
        }
        defer { stack.gatewayTCP?.closeAll() }
        if args.pid == nil { stack.namespaceWatch = NamespaceWatch(netns: args.netns, ignoring: connector?.pid ?? 0) }
        let forwards = HostForwards(slirp: slirp, connector: connector, slirpIPv6: args.enableIPv6,
                                    openFiles: raiseOpenFileLimit())
        stack.forwards = forwards
        defer { forwards.closeAll() }
        for f in args.publish { _ = try forwards.addForward(f) }
        let dns = DNSForwarder(upstreams: upstreams, tapFD: tap)
        stack.dns = dns
        defer { dns.closeAll() }
        let api = try args.apiSocket.map { try ForwardAPI(path: $0) }
        stack.api = api
        defer { api?.close() }
        // Recorded before the word that the network is up: once the
        // container runs it may end, and its removal clears the record.
        if args.ociHook || handoff != nil {
            OCIHook.recordServer(bundle: args.bundle, record: args.record, helper: "cove-net", pid: getpid(),
                                 leftovers: tcpDNS?.directory)
        }
        // A --record file is ours to remove at our end (a bundle's goes with it).
        defer { if let record = args.record { unlink(record) } }
        if let fd = args.readyFD {
            // The tap is up and every forward listens: one byte, then the fd
            // is closed so a reader also sees its end.
            var one: UInt8 = 0x31
            if write(fd, &one, 1) != 1 { NetLog.error("\(SyscallError("write to --ready-fd \(fd)"))") }
            close(fd)
        }
        if let handoff {
            // The container's init goes on: its network is up.
            try? handoff.channel.send(.ready)
            handoff.channel.close()
            reportTo = nil
        }
        if let quiet = args.stderrAfterReady { dup2(quiet, 2) }
        switch try stack.run() {
        case .processExited:
            // The container is gone and its caller may be waiting for us:
            // no orderly teardown (the kernel closes every socket), only
            // what the kernel would leave: the API's and the DNS proxy's
            // sockets in the filesystem. The connector is killed, not
            // waited for.
            api?.close()
            tcpDNS?.closeAll()
            if let record = args.record { unlink(record) }
            connector?.kill()
            _exit(0)
        case .namespaceEmpty:
            NetLog.info("no process left in \(args.netns): stopping")
            return 0
        case let .tapGone(e):
            NetLog.info("tap device gone (\(SyscallError("", errno: e).reason)): stopping")
            return 0
        }
    } catch {
        // Started by cove-unshare: the container's init reports it.
        if let channel = reportTo {
            let e = (error as? SyscallError)?.errno ?? (error as? SetupFailure)?.errno ?? EIO
            if (try? channel.send(.failure(errno: e, message: "cove-net: \(error)"))) != nil { return 1 }
        }
        NetLog.error("\(error)")
        return 1
    }
}

/// Raises the soft limit on open files to the hard one, as pasta does:
/// every relayed connection costs six fds. Returns the limit in force.
func raiseOpenFileLimit() -> Int {
    var r = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return 1024 }
    if r.rlim_cur < r.rlim_max {
        var raised = r
        raised.rlim_cur = r.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { r = raised }
    }
    return Int(clamping: min(r.rlim_cur, 1 << 30))
}

exit(main())
