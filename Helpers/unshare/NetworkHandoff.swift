#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The front's network helper, started by cove-unshare rather than as a
/// createRuntime hook. A hook runs after init has made its namespaces and
/// the container waits for it from its exec to its answer; started here,
/// before the container is made, the helper loads and initialises while
/// the container is set up, and the container waits only for the tap it
/// hands over. The config says so in two annotations of its own (as crun
/// reads run.oci.* ones):
/// - io.cove.network.helper: a JSON array, the helper's path and arguments;
///   cove-unshare adds `--tap-channel 3 --bundle DIR`.
/// - io.cove.network.tap: `mtu=N[,ipv6]`, the tap init makes.
/// Init, first thing, makes tap0 in the container's network namespace
/// (ContainerTap) and sends it, its user and network namespaces and a
/// pidfd of itself on the channel; the helper finishes its setup while
/// init builds the root; before pivot_root init waits for `.ready` or the
/// helper's failure.
struct NetworkHandoff {
    var helper: [String]
    var mtu: Int
    var ipv6: Bool

    /// nil when the config has no helper annotation.
    init?(_ spec: RuntimeSpec, configPath: String) throws {
        let notes = spec.annotations
        guard let text = notes.first(where: { $0.0 == ContainerTap.helperAnnotation })?.1 else { return nil }
        let bad = { (what: String) in
            RuntimeError("\(configPath): annotation \(ContainerTap.helperAnnotation): \(what)", errno: EINVAL)
        }
        guard let argv = (try? JSON.parse(Array(text.utf8)))?.arrayValue?.compactMap(\.stringValue),
              let path = argv.first, path.hasPrefix("/") else {
            throw bad("expected a JSON array of strings, the helper's absolute path first")
        }
        guard linuxHasNewNetworkNamespace(spec) else {
            throw bad("the container needs a network namespace of its own (add {\"type\": \"network\"} to linux.namespaces)")
        }
        helper = argv
        mtu = 65520
        ipv6 = false
        let tap = notes.first(where: { $0.0 == ContainerTap.tapAnnotation })?.1 ?? ""
        for option in tap.split(separator: ",") {
            if option == "ipv6" { ipv6 = true } else if option.hasPrefix("mtu="), let n = Int(option.dropFirst(4)),
                                                         n >= 576, n <= 65521 { mtu = n } else {
                throw RuntimeError("\(configPath): annotation \(ContainerTap.tapAnnotation): unknown option \"\(option)\" "
                                   + "(expected mtu=576…65521 and ipv6)", errno: EINVAL)
            }
        }
    }

    /// Starts the helper in a session of its own with stdio on /dev/null
    /// (its failures come back on the channel). Returns init's end.
    func start(bundle: String) throws -> SyncChannel {
        let (initEnd, helperEnd) = try SyncChannel.pair()
        defer { helperEnd.close() }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw SyscallError("open /dev/null") }
        defer { close(null) }
        var options = Spawn.Options()
        options.fds = [(0, null), (1, null), (2, null), (3, helperEnd.fd)]
        options.newSession = true
        do {
            _ = try Spawn.spawn(helper[0], helper + ["--tap-channel", "3", "--bundle", bundle],
                                env: Spawn.currentEnvironment, options: options)
        } catch {
            initEnd.close()
            throw RuntimeError("cannot start the network helper \(helper[0]): \(error)", errno: EIO)
        }
        return initEnd
    }

    /// In init, in the container's namespaces, first thing: the helper
    /// finishes its setup while init builds the root.
    func handOver(on channel: SyncChannel) throws {
        let tap = try ContainerTap.create(mtu: mtu, ipv6: ipv6, persistent: true)
        var fds = [tap]
        defer { for fd in fds { close(fd) } }
        for ns in ["user", "net"] {
            let fd = open("/proc/self/ns/\(ns)", O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw SyscallError("open /proc/self/ns/\(ns)") }
            fds.append(fd)
        }
        fds.append(try Processes.openPidFD(getpid()))
        for (part, fd) in zip(["tap", "userns", "netns", "pidfd"], fds) {
            try channel.send(.handoff(part), fd: fd)
        }
    }

    /// In init, before pivot_root: the network is up, or the helper's failure.
    func awaitReady(on channel: SyncChannel) throws {
        switch try channel.receive() {
        case .ready?:
            return
        case let .failure(e, message)?:
            throw RuntimeError(message, errno: e)
        default:
            throw RuntimeError("the network helper \(helper[0]) ended before the network was up", errno: EPIPE)
        }
    }
}

private func linuxHasNewNetworkNamespace(_ spec: RuntimeSpec) -> Bool {
    guard let ns = spec.linux?.namespace(.network) else { return false }
    return ns.path == nil
}
