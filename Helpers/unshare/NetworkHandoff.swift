#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// The front's network helper, started before the container is made rather
/// than as a createRuntime hook. A hook runs after init has made its
/// namespaces and the container waits for it from its exec to its answer;
/// started first, the helper loads while the container is set up, and
/// starts its stack behind the tap init makes while init builds the root.
/// The config names
/// it in an annotation of its own (as crun reads run.oci.* ones):
/// io.cove.network.helper, a JSON array of the helper's absolute path and
/// arguments.
///
/// The helper runs as `PATH --tap-channel 3` with a SOCK_SEQPACKET channel
/// on fd 3: cove-unshare starts it, or the caller did already and passes
/// the channel as --network-fd (the front does). On the channel
/// cove-unshare sends the helper's arguments (with --bundle DIR); init,
/// first thing, sends its user and network namespaces, a pidfd of itself
/// and tap0, which it made as the helper's --mtu and --enable-ipv6 say,
/// and, once its setup is done and before it reports ready, waits
/// for `.ready` or the helper's failure, which fails the container's start
/// with the helper's own line.
struct NetworkHandoff {
    var helper: [String]

    /// nil when the config has no helper annotation.
    init?(_ spec: RuntimeSpec, configPath: String) throws {
        guard let text = spec.annotations.first(where: { $0.0 == ContainerTap.helperAnnotation })?.1 else { return nil }
        let bad = { (what: String) in
            RuntimeError("\(configPath): annotation \(ContainerTap.helperAnnotation): \(what)", errno: EINVAL)
        }
        guard let argv = (try? JSON.parse(Array(text.utf8)))?.arrayValue?.compactMap(\.stringValue),
              let path = argv.first, path.hasPrefix("/") else {
            throw bad("expected a JSON array of strings, the helper's absolute path first")
        }
        guard let ns = spec.linux?.namespace(.network), ns.path == nil else {
            throw bad("the container needs a network namespace of its own (add {\"type\": \"network\"} to linux.namespaces)")
        }
        helper = argv
    }

    /// The helper's channel, with its arguments sent: `started` when the
    /// caller started it (--network-fd), else it is started now, in a
    /// session of its own with stdio on /dev/null (its failures come back
    /// on the channel). Returns the end init keeps.
    func connect(bundle: String, started: SyncChannel?) throws -> SyncChannel {
        let channel: SyncChannel
        if let started {
            channel = started
        } else {
            let (ours, helperEnd) = try SyncChannel.pair()
            defer { helperEnd.close() }
            do { _ = try ContainerTap.startHelper(helper[0], channel: helperEnd.fd) } catch {
                ours.close()
                throw RuntimeError("cannot start the network helper \(helper[0]): \(error)", errno: EIO)
            }
            channel = ours
        }
        let args = JSON.array((Array(helper.dropFirst()) + ["--bundle", bundle]).map { .string($0) })
        do { try channel.send(.networkArguments(args.serialized())) } catch {
            channel.close()
            throw RuntimeError("the network helper \(helper[0]) is gone: \(error)", errno: EPIPE)
        }
        return channel
    }

    /// In init, in the container's namespaces, first thing: init makes the
    /// tap (no process of the helper's needs to join them for it) and hands
    /// it over with the namespaces, so the helper starts its stack while
    /// init builds the root. Persistent: the namespace dies with the
    /// container, and unregistering it on close would wait for the
    /// kernel's grace periods.
    /// `earlyTap`: the one the early child made, finished here.
    func handOver(on channel: SyncChannel, earlyTap: Int32 = -1) throws {
        var fds: [Int32] = []
        defer { for fd in fds { close(fd) } }
        for kind in [NamespaceKind.user, .network] { fds.append(try Namespaces.openOwn(kind)) }
        fds.append(try Processes.openPidFD(getpid()))
        let tap = ContainerTap.settings(fromHelperArguments: Array(helper.dropFirst()))
        do {
            if earlyTap >= 0 {
                fds.append(earlyTap)
                try ContainerTap.finish(earlyTap, mtu: tap.mtu, ipv6: tap.ipv6, persistent: true)
            } else {
                fds.append(try ContainerTap.create(mtu: tap.mtu, ipv6: tap.ipv6, persistent: true))
            }
        } catch {
            throw RuntimeError("set up the container's network device for \(helper[0]): \(error)",
                               errno: (error as? SyscallError)?.errno ?? EIO)
        }
        for (part, fd) in zip(["userns", "netns", "pidfd", "tap"], fds) {
            do { try channel.send(.handoff(part), fd: fd) } catch {
                // The helper may have failed already: its own line, if it left one.
                throw pendingFailure(channel) ?? error
            }
        }
    }

    private func pendingFailure(_ channel: SyncChannel) -> Error? {
        guard channel.isReadable(within: 0), case let .failure(e, message)? = try? channel.receive() else { return nil }
        return RuntimeError(message, errno: e)
    }

    /// As long as the createRuntime hook it replaces was given.
    static let readyTimeoutMilliseconds: Int32 = 30_000

    /// In init, before it says ready: the network is up, or the helper's failure.
    func awaitReady(on channel: SyncChannel) throws {
        if !channel.isReadable(within: Self.readyTimeoutMilliseconds) {
            throw RuntimeError("the network helper \(helper[0]) did not answer within "
                               + "\(Self.readyTimeoutMilliseconds / 1000) s", errno: ETIMEDOUT)
        }
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
