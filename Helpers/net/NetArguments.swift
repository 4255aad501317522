import CoveLinux

/// cove-net's command line.
struct NetArguments {
    var netns = ""
    var userns = ""
    var mtu = ContainerTap.defaultMTU
    var apiSocket: String?
    /// --record: the file the serving process records itself in (cove
    /// puts it in its runtime directory, a tmpfs as a rule); the TCP DNS
    /// socket's directory is made beside it.
    var record: String?
    var allowHostLoopback = false
    var pid: Int32?
    var publish: [PortForward] = []
    var dnsUpstreams: [SocketAddress] = []
    var readyFD: Int32?
    var enableIPv6 = false
    /// Started as an OCI createRuntime hook: the container's state comes
    /// on stdin; cove-net detaches once its network is up.
    var ociHook = false
    /// With --oci-hook: stderr is pointed here once the network is up.
    var stderrAfterReady: Int32?
    /// The container's bundle (from the hook's state, or --bundle with
    /// --tap-channel), where the serving process records its pid for the
    /// front (network.pid) unless --record names the file.
    var bundle: String?
    /// With --oci-hook: run pasta (this path) instead of libslirp.
    var pasta: String?
    var pastaOptions: [String] = []
    /// Started before the container (the io.cove.network.helper
    /// annotation, see TapHandoff): the options, then the container's
    /// namespaces, a pidfd of its init and its tap0 come on this
    /// SOCK_SEQPACKET fd; init waits for the answer (ready, or the failure).
    var tapChannel: Int32?
    var help = false

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static let usage = """
        usage: cove-net --netns PATH --userns PATH [--pid PID] [--mtu N] [--allow-host-loopback]
                        [--enable-ipv6] [--publish [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]]...
                        [--dns-upstream IP[:PORT]]... [--api-socket PATH] [--ready-fd N] [--record FILE]
               cove-net --oci-hook [options but --netns, --userns, --pid]
               cove-net --oci-hook --pasta PATH [--pasta-option OPT]... [--publish ...]...
               cove-net --tap-channel FD
        cove-net runs until the process --pid names exits (without --pid, until it is killed).
        With --oci-hook it is a createRuntime hook: the container's state on stdin names the
        process; it returns once the network is up and keeps serving in the background.
        With --tap-channel (started before the container, see cove-unshare(1)) its options, then
        the container's namespaces, a pidfd of its init and the tap0 init made come on that fd;
        cove-net answers once the network is up.
        """

    init(_ argv: [String]) throws {
        var i = 0
        func value(_ name: String) throws -> String {
            i += 1
            guard i < argv.count else { throw UsageError(description: "option \(name) needs a value") }
            return argv[i]
        }
        while i < argv.count {
            var arg = argv[i]
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                inline = String(arg[arg.index(after: eq)...])
                arg = String(arg[..<eq])
            }
            func v() throws -> String { try inline ?? value(arg) }
            switch arg {
            case "--help", "-h": help = true; return
            case "--netns": netns = try v()
            case "--userns": userns = try v()
            case "--api-socket": apiSocket = try v()
            case "--allow-host-loopback": allowHostLoopback = true
            case "--enable-ipv6": enableIPv6 = true
            case "--oci-hook": ociHook = true
            case "--bundle": bundle = try v()
            case "--record": record = try v()
            case "--tap-channel":
                let t = try v()
                guard let n = Int32(t), n >= 0 else { throw UsageError(description: "--tap-channel \(t): expected an fd number") }
                tapChannel = n
            case "--pasta": pasta = try v()
            case "--pasta-option": pastaOptions.append(try v())
            case "--dns-upstream":
                let t = try v()
                guard let a = NetArguments.upstream(t) else {
                    throw UsageError(description: "--dns-upstream \(t): expected IP, IP:PORT or [IPV6]:PORT")
                }
                dnsUpstreams.append(a)
            case "--ready-fd":
                let t = try v()
                guard let n = Int32(t), n >= 0 else { throw UsageError(description: "--ready-fd \(t): expected an fd number") }
                readyFD = n
            case "--mtu":
                let t = try v()
                let range = ContainerTap.mtuRange
                guard let n = Int(t), range.contains(n) else {
                    throw UsageError(description: "--mtu \(t): expected a number from \(range.lowerBound) "
                                                  + "to \(range.upperBound)")
                }
                mtu = n
            case "--pid":
                let t = try v()
                guard let n = Int32(t), n > 0 else { throw UsageError(description: "--pid \(t): expected a process id") }
                pid = n
            case "--publish", "-p":
                let t = try v()
                guard let f = PortForward(t) else {
                    throw UsageError(description: "--publish \(t): expected [HOSTIP:]HOSTPORT:CTRPORT[/tcp|/udp]")
                }
                publish.append(f)
            default:
                throw UsageError(description: "unknown argument \(argv[i])\n\(NetArguments.usage)")
            }
            i += 1
        }
        if pasta != nil && !ociHook { throw UsageError(description: "--pasta needs --oci-hook") }
        if tapChannel != nil && (ociHook || !netns.isEmpty || pid != nil) {
            throw UsageError(description: "--tap-channel takes no --oci-hook, --netns or --pid: the container's init sends them")
        }
        if !ociHook && tapChannel == nil && (netns.isEmpty || userns.isEmpty) {
            throw UsageError(description: "--netns and --userns are required\n\(NetArguments.usage)")
        }
    }
}

extension NetArguments {
    /// IP, IP:PORT, [IPV6] or [IPV6]:PORT; port 53 unless given.
    static func upstream(_ t: String) -> SocketAddress? {
        if let ip = IPAddress(t) { return SocketAddress(ip, 53) }
        guard let colon = t.lastIndex(of: ":"), let port = UInt16(t[t.index(after: colon)...]), port > 0 else { return nil }
        let host = String(t[..<colon])
        if host.contains(":") && !host.hasPrefix("[") { return nil }
        return IPAddress(host).map { SocketAddress($0, port) }
    }
}

/// One `--publish`: a host port forwarded to the container's address.
struct PortForward: Equatable {
    var udp: Bool
    var hostAddress: IPAddress
    var hostPort: UInt16
    var containerPort: UInt16

    init(udp: Bool, hostAddress: IPAddress, hostPort: UInt16, containerPort: UInt16) {
        self.udp = udp
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    init?(_ text: String) {
        var spec = Substring(text)
        udp = false
        if let slash = spec.lastIndex(of: "/") {
            switch spec[spec.index(after: slash)...] {
            case "tcp": udp = false
            case "udp": udp = true
            default: return nil
            }
            spec = spec[..<slash]
        }
        hostAddress = IPAddress(IPv4Address(0, 0, 0, 0))
        if spec.hasPrefix("[") {
            // [IPV6]:HOSTPORT:CTRPORT
            guard let close = spec.firstIndex(of: "]"), let a = IPAddress(String(spec[...close])), a.isIPv6 else { return nil }
            hostAddress = a
            spec = spec[spec.index(after: close)...]
            guard spec.hasPrefix(":") else { return nil }
            spec = spec.dropFirst()
        }
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || (parts.count == 3 && !hostAddress.isIPv6) else { return nil }
        if parts.count == 3 {
            guard let a = IPv4Address(String(parts[0])) else { return nil }
            hostAddress = IPAddress(a)
        }
        guard let h = UInt16(parts[parts.count - 2]), h > 0,
              let c = UInt16(parts[parts.count - 1]), c > 0 else { return nil }
        hostPort = h
        containerPort = c
    }
}
