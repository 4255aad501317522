#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux
import CoveModel

/// The container lifecycle without a daemon: records in the store, the
/// bundle built from image and flags, and cove-unshare doing the work. A
/// detached container is held by cove-unshare's monitor, which outlives
/// this process, writes the container's output log and its exit code.
public struct ContainerEngine {
    public let paths: CovePaths
    public let helpers: HelperLocator
    public let containers: ContainerStore
    public var logLevel: String?

    public init(paths: CovePaths, helpers: HelperLocator = .forThisProgram()) throws {
        self.paths = paths
        self.helpers = helpers
        containers = try ContainerStore(paths: paths)
    }

    func helper(_ name: String) throws -> String {
        guard let p = helpers.find(name) else {
            throw EngineError("\(name) not found (searched \(helpers.searchPath.joined(separator: ", "))): reinstall cove")
        }
        return p
    }

    public var imageStore: ContentStore { get throws { try ContentStore(root: paths.dataRoot) } }

    public func logPath(_ r: ContainerRecord) -> String { paths.container(r.id) + "/container.log" }

    // MARK: create

    /// Makes the container: its layers unpacked, its directory, config.json
    /// and record. Nothing runs yet.
    public func create(_ o: RunOptions, image record: ImageRecord) throws -> ContainerRecord {
        let store = try imageStore
        let image = try StoredImage(store: store, record: record)
        let fs = try helper("cove-fs")
        let keepID = try KeepIDPlan.forOptions(o)
        let ports = try PortPublish.expandAll(o.publish)
        let joined = try joinedNetwork(o)
        if Self.networkMode(o.network).mode == "pasta" { _ = try Self.pastaPath() }
        if joined != nil && keepID != nil {
            throw EngineError("--userns keep-id cannot be used with --network \(o.network): the container joins that network's user namespace")
        }
        var driver = try StorageDriver.decide(paths: paths, coveFS: fs, forced: o.storageDriver)
        if keepID != nil { driver = try driver.forKeepID() }
        try StoragePlace.check(driver, paths: paths)
        let cache = try LayerCache(paths: paths, store: store, helpers: helpers)
        // Shared until config.json names the layers: no collector meanwhile.
        return try cache.withLock(exclusive: false) {
            try create(o, image: image, record: record, layers: try cache.unpack(image), fs: fs, driver: driver,
                       keepID: keepID, ports: ports, joined: joined)
        }
    }

    func create(_ o: RunOptions, image: StoredImage, record: ImageRecord, layers: [String], fs: String,
                driver: StorageDriver, keepID: KeepIDPlan? = nil, ports: [String] = [],
                joined: BundleBuilder.JoinedNetwork? = nil) throws -> ContainerRecord {

        let created = Clock.rfc3339Now()
        var record = try containers.create(id: o.presetID) { id in
            var r = ContainerRecord(id: id, name: o.name ?? "", image: record.name.isEmpty ? record.config.shortID : record.name,
                                    imageID: record.config.description, created: created, args: [])
            r.autoRemove = o.autoRemove
            r.tty = o.tty
            r.interactive = o.interactive
            r.network = o.network
            r.ports = ports
            r.storageDriver = driver.name
            r.logMaxSize = o.logMaxSize
            r.labels = o.labels.map { l in
                l.firstIndex(of: "=").map { (String(l[..<$0]), String(l[l.index(after: $0)...])) } ?? (l, "")
            }
            return r
        }
        do {
            let dir = paths.container(record.id)
            let (rootMount, rootPath) = try prepareRoot(driver: driver, layers: layers, dir: dir, fs: fs,
                                                        extraOptions: keepID?.fuseOptions ?? [], volatile: o.autoRemove)
            var builder = BundleBuilder(options: o, image: image, layers: layers, containerDir: dir, id: record.id)
            builder.etcDir = etcDir(record)
            if builder.etcDir != dir { try Files.makeDirectories(builder.etcDir, mode: 0o700) }
            builder.keepID = keepID
            builder.joinedNetwork = joined
            builder.volumes = try VolumeStore(paths: paths, helpers: helpers)
            if o.initProcess { builder.initBinary = try helper("cove-unshare") }
            var out = try builder.build(rootMount: rootMount, rootPath: rootPath)
            out.config = try addNetwork(out.config, o, ports: ports, record: networkRecord(record.id))
            try Files.writeAtomically(dir + "/config.json", out.config.serializedBytes(), mode: 0o600,
                                      durable: false)
            record = try containers.update(record.id) {
                if o.startsAttached { $0.startedAt = Clock.rfc3339Now() }
                $0.args = out.args
                $0.stopSignal = out.stopSignal
                $0.stopTimeout = o.stopTimeout ?? 10
                $0.hostConfig = .object([
                    ("Binds", .array(o.volumes.map { .string($0) })), ("Tmpfs", .array(o.tmpfs.map { .string($0) })),
                    ("NetworkMode", .string(o.network)), ("UsernsMode", .string(o.userns ?? "")),
                    ("Privileged", .bool(o.privileged)),
                    ("ReadonlyRootfs", .bool(o.readOnly)), ("CapAdd", .array(o.capAdd.map { .string($0) })),
                    ("CapDrop", .array(o.capDrop.map { .string($0) })), ("AutoRemove", .bool(o.autoRemove)),
                    ("PortBindings", .array(ports.map { .string($0) })),
                ])
            }
            return record
        } catch {
            try? removeFiles(record)
            if let volumes = try? VolumeStore(paths: paths, helpers: helpers) { volumes.removeAnonymous(of: record.id) }
            throw error
        }
    }

    /// The root: an overlay (kernel or fuse) mounted by cove-unshare inside
    /// the container's namespaces over `rootfs/`, or a copy made now.
    /// `volatile` (a `--rm` container, as podman does): no fsync or syncfs
    /// reaches the disk from the writable layer, which is thrown away at
    /// the end anyway; without it each copy-up (a touch or chmod of an
    /// image file) waits for an fsync of its own.
    func prepareRoot(driver: StorageDriver, layers: [String], dir: String, fs: String,
                     extraOptions: [String] = [], volatile: Bool = false) throws -> (JSON?, String) {
        let rootfs = dir + "/rootfs"
        switch driver.name {
        case "copy":
            var args = ["copy"]
            for l in layers { args += ["--layer", l] }
            args += ["--into", rootfs]
            let (status, _, err) = try Spawn.capture(fs, args)
            guard status == .exited(0) else {
                throw EngineError("cannot copy the image into \(rootfs): "
                    + LayerCache.stripPrefixes(String(decoding: err, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "\(status)"))
            }
            return (nil, rootfs)
        default:
            try Files.makeDirectories(rootfs, mode: 0o755)
            try Files.makeDirectories(dir + "/upper", mode: 0o755)
            try Files.makeDirectories(dir + "/work", mode: 0o700)
            // Layers by relative paths, resolved by cove-unshare (and
            // fuse-overlayfs) from the bundle, this directory: from the
            // store's own layers, ../../layers/<64 hex>, which a page of
            // mount data holds about 50 of; else, or for more, by short
            // names (l/0 is the bottom) that a page holds hundreds of, at
            // the price of a directory and a symlink per layer.
            let lower: String
            let inStore = paths.layers + "/"
            let direct = layers.reversed().map { $0.hasPrefix(inStore) ? "../../layers/" + String($0.dropFirst(inStore.count)) : "" }
            if !direct.contains(""), direct.reduce(0, { $0 + $1.utf8.count + 1 }) < 3000,
               Files.sameFile(dir + "/../../layers", paths.layers) {
                lower = direct.joinedPlain(":")
            } else {
                try Files.makeDirectories(dir + "/l", mode: 0o700)
                for (i, layer) in layers.enumerated() where symlink(layer, dir + "/l/\(i)") != 0 && errno != EEXIST {
                    throw SyscallError("link layer \(i) at \(dir)/l/\(i)")
                }
                lower = layers.indices.reversed().map { "l/\($0)" }.joinedPlain(":")
            }
            var opts = ["lowerdir=" + lower, "upperdir=\(dir)/upper", "workdir=\(dir)/work"]
            if volatile { opts.append("volatile") }
            let type: String
            if driver.name == "overlay" {
                opts.append("userxattr")
                type = "overlay"
            } else {
                type = "fuse-overlayfs"
                opts += extraOptions
            }
            return (ContainerMounts.mount("/", type, type == "overlay" ? "overlay" : "fuse-overlayfs", opts), rootfs)
        }
    }

    /// The network's mode and its options: `slirp4netns:mtu=1500` → ("slirp4netns", "mtu=1500").
    static func networkMode(_ network: String) -> (mode: String, options: String) {
        let parts = network.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return (parts.first ?? "", parts.count > 1 ? parts[1] : "")
    }

    /// `--network ns:PATH` and `container:NAME`: the network namespace to
    /// join and the user namespace that owns it, which the container must
    /// join too: setns into a network namespace needs CAP_SYS_ADMIN in its
    /// owner, which a new user namespace beside it never has. nil for
    /// every mode that makes its own network namespace.
    func joinedNetwork(_ o: RunOptions) throws -> BundleBuilder.JoinedNetwork? {
        let (mode, arg) = Self.networkMode(o.network)
        switch mode {
        case "container":
            guard !arg.isEmpty else { throw EngineError("--network container: needs a container name or ID (container:NAME)") }
            let other = try containers.find(arg)
            guard case let .running(pid) = containers.condition(other) else {
                throw EngineError("cannot join the network of container \(other.name): it is not running; start it first")
            }
            // Its network namespace is the host's, owned by no user
            // namespace of ours: setns would fail deep in the runtime.
            if other.network == "host" {
                throw EngineError("cannot join the network of container \(other.name): it uses the host's network; "
                    + "use --network host")
            }
            // Its user namespace comes along, and with keep-id its id
            // mapping is not the one this container's files are made for
            // (and keep-id here is refused with a joined network).
            if let theirs = other.hostConfig["UsernsMode"]?.stringValue, !theirs.isEmpty {
                throw EngineError("cannot join the network of container \(other.name): it runs with --userns=\(theirs), "
                    + "whose user namespace would come with its network; start it without --userns to share its network")
            }
            return .init(network: "/proc/\(pid)/ns/net", user: "/proc/\(pid)/ns/user",
                         etcFrom: etcDir(other), container: other.id)
        case "ns":
            guard arg.hasPrefix("/") else { throw EngineError("--network ns: needs an absolute path (ns:/proc/PID/ns/net)") }
            let owner: Namespaces.Owner
            do { owner = try Namespaces.owner(of: arg) } catch {
                throw EngineError("cannot use the network namespace \(arg): \(error)")
            }
            switch owner {
            case .caller:
                // Owned by the host's user namespace (made by root): a
                // rootless container has no CAP_SYS_ADMIN there.
                throw EngineError("cannot join the network namespace \(arg): it belongs to the host's user namespace, "
                    + "where an unprivileged user may not setns; make it in a user namespace of yours (unshare -rn)")
            case .unreachable:
                throw EngineError("cannot join the network namespace \(arg): no process of yours is left in the user "
                    + "namespace that owns it, so it cannot be joined; keep one running (e.g. unshare -rn sleep inf)")
            case let .path(user):
                return .init(network: arg, user: user, etcFrom: nil, container: nil)
            }
        default:
            return nil
        }
    }

    /// ns: and container: name /proc/PID paths, which hold only while that
    /// process lives: they are resolved again at each start (as docker
    /// resolves container: when the container starts), so a container made
    /// with `create` joins its peer as it is then, not a pid since reused.
    func refreshJoinedNetwork(_ r: ContainerRecord) throws {
        var o = RunOptions()
        o.network = r.network
        o.userns = r.hostConfig["UsernsMode"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        guard let j = try joinedNetwork(o) else { return }
        let path = paths.container(r.id) + "/config.json"
        let config = try JSON.parse(try Files.read(path))
        guard let linux = config["linux"], let namespaces = linux["namespaces"]?.arrayValue else { return }
        let updated = namespaces.map { ns -> JSON in
            switch ns["type"]?.stringValue {
            case "user": return .object([("type", .string("user")), ("path", .string(j.user))])
            case "network": return .object([("type", .string("network")), ("path", .string(j.network))])
            default: return ns
            }
        }
        let changed = config.setting("linux", linux.setting("namespaces", .array(updated)))
        try Files.writeAtomically(path, changed.serializedBytes(), mode: 0o600, durable: false)
    }

    /// slirp4netns (cove-net, the default): the io.cove.network.helper
    /// annotation, by which cove-unshare starts it before the container
    /// (see cove-unshare's NetworkHandoff); pasta: a createRuntime hook;
    /// none, host, ns: and container: need neither.
    /// `record`: the file the helper records itself in (see networkRecord).
    func addNetwork(_ config: JSON, _ o: RunOptions, ports: [String], record: String) throws -> JSON {
        let (mode, options) = Self.networkMode(o.network)
        let opts = options.split(separator: ",").map(String.init)
        var args: [String]
        switch mode {
        case "none", "host", "ns", "container":
            if mode == "host" && !o.publish.isEmpty { throw EngineError("-p has no effect with --network host: drop one of them") }
            if mode == "none" && !o.publish.isEmpty { throw EngineError("-p needs a network: drop --network none") }
            if !o.publish.isEmpty {
                throw EngineError("-p cannot be used with --network \(mode): the network namespace is not cove's to publish from")
            }
            return config
        case "slirp4netns", "slirp", "":
            args = []
            for opt in opts {
                switch opt {
                case "allow_host_loopback=true": args.append("--allow-host-loopback")
                case "allow_host_loopback=false": continue
                default:
                    if opt.hasPrefix("mtu=") {
                        let range = ContainerTap.mtuRange
                        guard let n = Int(opt.dropFirst(4)), range.contains(n) else {
                            throw EngineError("network option \"\(opt)\": the MTU is a number from \(range.lowerBound) "
                                              + "to \(range.upperBound)")
                        }
                        args += ["--mtu", String(n)]
                    } else {
                        throw EngineError("unknown network option \"\(opt)\": slirp4netns takes allow_host_loopback=true|false, mtu=N")
                    }
                }
            }
        case "pasta":
            let pasta = try Self.pastaPath()
            args = ["cove-net", "--oci-hook", "--pasta", pasta]
            for opt in opts { args += ["--pasta-option", opt] }
        default:
            throw EngineError("unknown network mode \"\(o.network)\": use slirp4netns, pasta, none, host, ns:PATH or container:NAME")
        }
        for p in ports { args += ["--publish", p] }
        args += ["--record", record]
        let net = try helper("cove-net")
        if mode == "pasta" {
            let hook = JSON.object([("path", .string(net)), ("args", .array(args.map { .string($0) })), ("timeout", .int(30))])
            return config.setting("hooks", .object([("createRuntime", .array([hook]))]))
        }
        // cove-net: started by cove-unshare before the container is made,
        // handed the tap its init makes (see cove-unshare's NetworkHandoff).
        let helperArgs = [net] + args
        let notes = (config["annotations"]?.objectValue ?? []) + [
            (ContainerTap.helperAnnotation, .string(JSON.array(helperArgs.map { .string($0) }).serialized())),
        ]
        return config.setting("annotations", .object(notes))
    }

    /// The channel of cove-net for `--network` (slirp4netns, the
    /// default) when it is started before the container is made (see
    /// startNetworkHelper): `runtime` goes to cove-unshare as --network-fd,
    /// which sends cove-net its arguments on it (see cove-unshare's
    /// NetworkHandoff); `helper` is cove-net's fd 3. nil for the other
    /// modes, or without cove-net (cove-unshare then says so).
    public struct NetworkChannel {
        public let runtime: SyncChannel
        public let helper: SyncChannel
        let path: String
    }

    /// Whether a network helper of `r`'s may hold host ports until it has
    /// ended: with published ports, or pasta's (its own options may
    /// forward some). Whoever runs a container on the same port next must
    /// find it free once `run --rm` has returned: that one waits for it.
    public static func helperMayHoldPorts(_ r: ContainerRecord) -> Bool {
        !r.ports.isEmpty || networkMode(r.network).mode == "pasta"
    }

    /// Whether `--network` means cove-net (slirp4netns, the default).
    static func usesCoveNet(_ network: String) -> Bool { ["slirp4netns", "slirp", ""].contains(networkMode(network).mode) }

    public func networkChannel(network: String) -> NetworkChannel? {
        guard Self.usesCoveNet(network),
              let net = helpers.find("cove-net"), let (runtime, helper) = try? SyncChannel.pair() else { return nil }
        return NetworkChannel(runtime: runtime, helper: helper, path: net)
    }

    /// Starts cove-net on the channel's helper end, in a session of its own
    /// with stdio on /dev/null (its failures come back to the container's
    /// init), and closes that end. The error when it could not start.
    @discardableResult
    public func startNetworkHelper(_ c: NetworkChannel) -> Error? {
        defer { c.helper.close() }
        do {
            _ = try ContainerTap.startHelper(c.path, channel: c.helper.fd)
            return nil
        } catch {
            return error
        }
    }

    /// cove-unshare for an attached run, started before the container is
    /// made: its child, the container's init to be, is made in new user and
    /// PID namespaces (with network and IPC ones, and tap0 for cove-net)
    /// while newuidmap and newgidmap write its maps and the front resolves
    /// the image and writes the bundle; then it waits on `go` (see
    /// cove-unshare --early-fd). For the usual shape only: the default id
    /// maps (no --userns) and a network namespace of its own (none,
    /// slirp4netns, pasta). nil otherwise. `network`: cove-net's channel,
    /// for cove-unshare (--network-fd); runAttached starts cove-net itself
    /// at go. The exit code comes back on `go` as well.
    ///
    /// Measured on two cores, interleaved (60 runs each): the early start
    /// took --network none from 10.5 to 9.6-10.0 ms when it came.
    public struct EarlyStart {
        public let id: String
        let pid: pid_t
        let go: SyncChannel
        let pidFile: String
    }

    public func startEarly(_ o: RunOptions, network: NetworkChannel?) -> EarlyStart? {
        let mode = Self.networkMode(o.network).mode
        guard !o.detach, (o.userns ?? "").isEmpty, network != nil || ["none", "pasta"].contains(mode),
              let (unshare, base) = try? runtimeArgs(), let (ours, theirs) = try? SyncChannel.pair() else { return nil }
        defer { theirs.close() }
        let id = ContainerStore.newID()
        guard (try? Files.makeDirectories(paths.runRoot + "/pids", mode: 0o700)) != nil else {
            ours.close()
            return nil
        }
        let pidFile = paths.runRoot + "/pids/" + id
        unlink(pidFile)
        try? Processes.becomeSubreaper()
        var options = Spawn.Options()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { if null >= 0 { close(null) } }
        if !o.interactive && !o.tty && null >= 0 { options.fds = [(0, null)] }
        var extra = ["--early-fd", "4"]
        if let network {
            options.fds.append((3, network.runtime.fd))
            extra += ["--network-fd", "3"]
        }
        options.fds.append((4, theirs.fd))
        guard let pid = try? Spawn.spawn(unshare, base + ["run", "--bundle", paths.container(id), "--pid-file", pidFile]
                                         + extra + [id], env: Spawn.currentEnvironment, options: options) else {
            ours.close()
            return nil
        }
        return EarlyStart(id: id, pid: pid, go: ours, pidFile: pidFile)
    }

    /// An early start whose container was never made: cove-unshare sees
    /// its channel end, cleans up and exits without a word.
    public func abandon(_ e: EarlyStart) {
        e.go.close()
        _ = try? Processes.wait(e.pid)
    }

    static func pastaPath() throws -> String {
        guard let pasta = findPasta() else {
            throw EngineError("--network pasta: pasta not found on PATH (\(Environment.get("PATH") ?? "")): "
                + "install it (Debian: apt-get install passt) or use --network slirp4netns")
        }
        return pasta
    }

    static func findPasta() -> String? {
        let path = Environment.get("PATH") ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") where dir.hasPrefix("/") {
            let p = String(dir) + "/pasta"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    // MARK: start, stop, remove

    /// Why a running container has lost its network: the helper serving it
    /// (cove-net, or pasta), recorded by the helper (see networkRecord), is
    /// no longer alive. nil when it is, or when the
    /// container has no such helper or does not run.
    public func networkFailure(_ r: ContainerRecord) -> String? {
        guard case .running = containers.condition(r),
              let bytes = (try? Files.read(networkRecord(r.id))) ?? (try? Files.read(paths.container(r.id) + "/network.pid")),
              let doc = try? JSON.parse(bytes), let pid = doc["pid"]?.int64Value, pid > 0 else { return nil }
        let helper = doc["helper"]?.stringValue ?? "cove-net"
        let start = UInt64(clamping: doc["startTime"]?.int64Value ?? 0)
        if Processes.isAlive(pid_t(truncatingIfNeeded: pid), startTime: start) { return nil }
        return "\(helper) (pid \(pid)) exited while the container runs: it has no network (outbound traffic and "
            + "published ports are down); stop and start it to get one back"
    }

    /// A previous run's record of its network helper, gone before this one
    /// starts or with the container; with it what a helper killed before its
    /// own cleanup left (cove-net's TCP DNS socket).
    func clearNetworkRecord(_ r: ContainerRecord) {
        // In the runtime directory; in the bundle for containers made
        // before cove put it there.
        for record in [networkRecord(r.id), paths.container(r.id) + "/network.pid"] {
            if let bytes = try? Files.read(record), let doc = try? JSON.parse(bytes),
               let dir = doc["leftovers"]?.stringValue, !dir.hasParentComponent,
               dir.hasPrefix("/tmp/cove-net-") || dir.hasPrefix(paths.runRoot + "/net/"),
               let pid = doc["pid"]?.int64Value,
               !Processes.isAlive(pid_t(truncatingIfNeeded: pid), startTime: UInt64(clamping: doc["startTime"]?.int64Value ?? 0)) {
                unlink(dir + "/dns.sock")
                rmdir(dir)
            }
            unlink(record)
        }
    }

    /// Where a container's network helper records itself (cove-net
    /// --record): runtime state, in the runtime directory (a tmpfs as a
    /// rule: a file made and removed on every start costs a disk an inode),
    /// with cove-net's TCP DNS socket beside it.
    func networkRecord(_ id: String) -> String { paths.runRoot + "/net/" + id }

    func runtimeArgs() throws -> (String, [String]) {
        let unshare = try helper("cove-unshare")
        var args = [unshare, "--root", paths.runtimeRoot]
        if logLevel == "debug" { args.append("--debug") }
        return (unshare, args)
    }

    /// Clears what a previous run left in the runtime's state (a stopped
    /// container's state.json), so the ID can run again; and the mark a
    /// volatile overlay leaves (work/work/incompat/volatile), with which
    /// the kernel refuses to mount that upper layer again. work/work is
    /// the overlay's scratch space: each mount empties it.
    func clearRuntimeState(_ r: ContainerRecord) throws {
        if r.autoRemove && r.storageDriver == "overlay" { try helpers.removeStoreTree(paths.container(r.id) + "/work/work") }
        guard Files.exists(paths.runtimeRoot + "/" + r.id) else { return }
        let (unshare, base) = try runtimeArgs()
        _ = try Spawn.capture(unshare, Array(base.dropFirst()) + ["delete", "--force", r.id])
        if Files.exists(paths.runtimeRoot + "/" + r.id) { try? Files.removeTree(paths.runtimeRoot + "/" + r.id) }
    }

    /// Runs the container attached to this terminal: its stdio are ours;
    /// signals we get are passed on. Returns the container's exit code.
    /// `fresh`: made by `create` with `startsAttached` just now, so its
    /// record says started already. `recordExit` false: the caller removes
    /// the container next (`--rm`), so its exit is not written down.
    /// `network`: a cove-net channel (networkChannel); its helper is
    /// started now unless startNetworkHelper did already. `early`: the
    /// cove-unshare startEarly started, which gets the go here.
    public func runAttached(_ r: ContainerRecord, fresh: Bool = false, recordExit: Bool = true,
                            network: NetworkChannel? = nil, helperStarted: Bool = false,
                            early: EarlyStart? = nil, reapHelpers: Bool = true) throws -> Int32 {
        var runtimeEnd = network?.runtime
        defer { runtimeEnd?.close() }
        var pendingHelper = helperStarted ? nil : network
        defer { pendingHelper?.helper.close() }
        // An early start this does not get to say go to is abandoned.
        var pendingEarly = early
        defer { if let e = pendingEarly { abandon(e) } }
        if let early, early.id != r.id {
            throw EngineError("internal error: the early start was for container \(early.id), not \(r.id)")
        }
        if early == nil {
            if case .running = containers.condition(r) { throw EngineError("container \(r.name) is already running") }
            // Not with an early start: its runtime directory is cove-unshare's already.
            try clearRuntimeState(r)
        }
        clearNetworkRecord(r)
        try refreshJoinedNetwork(r)
        let (unshare, base) = try runtimeArgs()
        if !fresh || r.startedAt.isEmpty {
            try containers.update(r.id) { $0.startedAt = Clock.rfc3339Now(); $0.finishedAt = ""; $0.exitCode = nil }
        }
        // The pid file tells a container that ran (its own exit code, even
        // 1) from cove-unshare failing to start it (docker's 125). In the
        // runtime directory (a tmpfs as a rule): a file made and removed on
        // every run, which on a disk costs an inode's allocation.
        try Files.makeDirectories(paths.runRoot + "/pids", mode: 0o700)
        let pidFile = early?.pidFile ?? paths.runRoot + "/pids/" + r.id
        if early == nil { unlink(pidFile) }
        // Helpers that outlive cove-unshare (cove-net, pasta's watcher)
        // are reparented here and reaped once the container has ended.
        try? Processes.becomeSubreaper()
        // docker: without -i (or -t) the container's stdin is not ours.
        var spawnOptions = Spawn.Options()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if !r.interactive && !r.tty && null >= 0 { spawnOptions.fds = [(0, null)] }
        defer { if null >= 0 { close(null) } }
        let pid: pid_t
        // The early start's channel: it says the exit code on it.
        var exitReport: SyncChannel?
        defer { exitReport?.close() }
        if let early {
            // It waits with the user namespace made: the bundle is there now.
            pendingEarly = nil
            _ = try? early.go.send(.bundleReady)
            exitReport = early.go
            pid = early.pid
        } else {
            var networkArgs: [String] = []
            if let runtimeEnd {
                spawnOptions.fds.append((3, runtimeEnd.fd))
                networkArgs = ["--network-fd", "3"]
            }
            pid = try Spawn.spawn(unshare, base + ["run", "--bundle", paths.container(r.id), "--pid-file", pidFile]
                                  + networkArgs + [r.id], env: Spawn.currentEnvironment, options: spawnOptions)
        }
        runtimeEnd?.close()
        runtimeEnd = nil
        // cove-net, when the caller did not start it before it made the
        // container: started after the go, it loads while cove-unshare sets
        // the container up (what cove-unshare sends it waits in the channel).
        // Started later, once an early start's maps are written (off the
        // two cores newuidmap and newgidmap want), it was measured slower:
        // 1.05-1.07 of this, interleaved, 80 runs each.
        if let h = pendingHelper {
            pendingHelper = nil
            if let error = startNetworkHelper(h) {
                _ = try? Processes.wait(pid)
                throw EngineError("cannot start the network helper \(h.path): \(error)")
            }
        }
        let status = Processes.waitForwardingSignals(pid, exitReport: exitReport)
        // Helpers end with the container (cove-net watches its init): the
        // caller may have work to do meanwhile and reap them after it.
        if reapHelpers { Processes.reapRemaining(seconds: 2) }
        let started = Files.exists(pidFile)
        unlink(pidFile)
        // Without a pid file: 126/127 are the exec failures cove-unshare
        // reports as docker does; anything else is its own failure.
        let code = started || status == .exited(126) || status == .exited(127) ? status.code : 125
        if recordExit { try containers.update(r.id) { $0.finishedAt = Clock.rfc3339Now(); $0.exitCode = code } }
        return code
    }

    /// Starts the container under its monitor and returns once it runs.
    public func startDetached(_ r: ContainerRecord) throws {
        if case .running = containers.condition(r) { return }
        try clearRuntimeState(r)
        clearNetworkRecord(r)
        try refreshJoinedNetwork(r)
        let (unshare, base) = try runtimeArgs()
        let restarted = !r.startedAt.isEmpty
        try containers.update(r.id) {
            $0.startedAt = Clock.rfc3339Now(); $0.finishedAt = ""; $0.exitCode = nil
            if restarted { $0.restarts += 1 }
        }
        var cleanup: [String] = []
        if r.autoRemove, let cove = try? Files.realPath("/proc/self/exe") {
            // --rm with -d: the monitor removes the container when it ends.
            cleanup = ["--exit-command", cove]
            for arg in ["--root", paths.dataRoot, "--runroot", paths.runRoot, "rm", "-f", "-v", r.id] {
                cleanup += ["--exit-command-arg", arg]
            }
        }
        let (status, _, err) = try Spawn.capture(unshare, Array(base.dropFirst()) + [
            "run", "--detach", "--monitor", "--output-log", logPath(r), "--output-log-max", "\(r.logMaxSize)"]
            + cleanup + ["--bundle", paths.container(r.id), r.id])
        guard status == .exited(0) else {
            _ = try? containers.update(r.id) { $0.finishedAt = Clock.rfc3339Now(); $0.exitCode = 125 }
            try? clearRuntimeState(r)
            throw EngineError(Self.lastLine(err) ?? "cove-unshare run \(status)")
        }
    }

    /// Sends a signal to the container's init.
    public func kill(_ r: ContainerRecord, signal: String) throws {
        guard case .running = containers.condition(r) else { throw EngineError("container \(r.name) is not running") }
        let (unshare, base) = try runtimeArgs()
        let (status, _, err) = try Spawn.capture(unshare, Array(base.dropFirst()) + ["kill", r.id, signal])
        guard status == .exited(0) else { throw EngineError(Self.lastLine(err) ?? "cove-unshare kill \(status)") }
    }

    /// The stop signal, then SIGKILL after `timeout` seconds; waits for the end.
    public func stop(_ r: ContainerRecord, timeout: Int) throws {
        guard case let .running(pid) = containers.condition(r) else { return }
        if timeout > 0 {
            try? kill(r, signal: r.stopSignal)
            if waitExited(r, pid: pid, seconds: Double(timeout)) { return }
        }
        try? kill(r, signal: "KILL")
        _ = waitExited(r, pid: pid, seconds: 10)
    }

    /// Polls until the container's init is gone and its exit is recorded.
    /// The monitor records within moments of init's end.
    @discardableResult
    public func waitExited(_ r: ContainerRecord, pid: Int32, seconds: Double) -> Bool {
        let deadline = Clock.monotonicMilliseconds() + seconds * 1000
        while Clock.monotonicMilliseconds() < deadline {
            if case .exited(let code) = containers.condition(r), code != nil || !isMonitored(r) { return true }
            usleep(10_000)
        }
        return false
    }

    func isMonitored(_ r: ContainerRecord) -> Bool {
        Files.exists(paths.runtimeRoot + "/" + r.id + "/state.json")
    }

    /// Removes the container: its runtime state, writable layer, record;
    /// with `volumes` (`rm -v`, `--rm`) also the anonymous volumes made
    /// for it that no other container uses, never a named one.
    public func remove(_ r: ContainerRecord, force: Bool, volumes: Bool = false) throws {
        if case .running = containers.condition(r) {
            guard force else {
                throw EngineError("container \(r.name) is running: stop it first or use rm -f")
            }
            try stop(r, timeout: 0)
        }
        try clearRuntimeState(r)
        clearNetworkRecord(r)
        try containers.withLock { try removeFiles(r) }
        guard volumes else { return }
        let failed = try VolumeStore(paths: paths, helpers: helpers).removeAnonymous(of: r.id)
        if let (name, why) = failed.first {
            throw EngineError("container \(r.name) removed, but not its anonymous volume \(name): \(why)")
        }
    }

    /// `run --rm` once its container has exited. The container is gone at
    /// once: its directory, record and name, renamed under the store's lock
    /// into containers/.trash (which no listing reads), and its anonymous
    /// volumes. Unlinking the writable layer's files is left to a child
    /// that outlives this command, its stdio on /dev/null so that nothing
    /// reading our output waits for it: that took a fifth of a short
    /// container's run. A removal cut short (a crash, a reboot) is finished
    /// by the next one, which sweeps every entry no live removal holds.
    /// `beforeBackground` runs once the container is gone, before the
    /// child is made (run --rm reaps its helpers there, not the child).
    public func removeExited(_ r: ContainerRecord, beforeBackground: () -> Void = {}) throws {
        // fork() is safe only with no other thread (one might hold malloc's lock).
        guard Environment.threadCount() == 1 else {
            defer { beforeBackground() }
            return try remove(r, force: true, volumes: true)
        }
        if Files.exists(paths.runtimeRoot + "/" + r.id) { try clearRuntimeState(r) }
        clearNetworkRecord(r)
        let trash = paths.containers + "/.trash"
        try? Files.removeTree(etcDir(r))
        let held: Int32 = try containers.withLock {
            if mkdir(trash, 0o700) != 0 && errno != EEXIST { throw SyscallError("create \(trash)") }
            guard rename(paths.container(r.id), trash + "/" + r.id) == 0 else {
                if errno == ENOENT { return -1 }
                throw SyscallError("move \(paths.container(r.id)) to \(trash)")
            }
            return Self.holdForRemoval(trash + "/" + r.id)
        }
        let failed = try VolumeStore(paths: paths, helpers: helpers).removeAnonymous(of: r.id)
        beforeBackground()
        if held >= 0 {
            let pid = (try? Processes.fork()) ?? -1
            if pid == 0 {
                // Only the hold on our entry stays open.
                Processes.detachFromCaller(keeping: [held])
                try? helpers.removeStoreTree(trash + "/" + r.id)
                sweepTrash(trash)
                _exit(0)
            }
            close(held)
            // A fork that failed leaves the entry for the next sweep.
        }
        if let (name, why) = failed.first {
            throw EngineError("container \(r.name) removed, but not its anonymous volume \(name): \(why)")
        }
    }

    /// An fd holding `path` with an exclusive flock: the mark of a live
    /// removal; -1 when another process holds it.
    static func holdForRemoval(_ path: String) -> Int32 { FileLock.tryHold(path, directory: true) ?? -1 }

    /// Removes the entries of containers/.trash that no live removal holds.
    func sweepTrash(_ trash: String) {
        for name in (try? Files.listDirectory(trash)) ?? [] {
            let fd = Self.holdForRemoval(trash + "/" + name)
            guard fd >= 0 else { continue }
            try? helpers.removeStoreTree(trash + "/" + name)
            close(fd)
        }
    }

    /// Where a container's /etc/hostname, hosts and resolv.conf live: for a
    /// --rm container, which is never started again, in the runtime
    /// directory (three files made and removed on every run cost three
    /// inode allocations on a disk, on tmpfs none); else in its directory.
    public func etcDir(_ r: ContainerRecord) -> String {
        r.autoRemove ? paths.runRoot + "/etc/" + r.id : paths.container(r.id)
    }

    func removeFiles(_ r: ContainerRecord) throws {
        if r.autoRemove { try? Files.removeTree(etcDir(r)) }
        // The writable layer (or a copy cut short by a crash) may hold
        // files of the user's subordinate ids.
        try helpers.removeStoreTree(paths.container(r.id))
    }

    static func lastLine(_ bytes: [UInt8]) -> String? {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").last.map { line in
            var s = Substring(line)
            for p in ["cove-unshare: ", "Error: ", "error: "] where s.hasPrefix(p) { s = s.dropFirst(p.count) }
            return String(s)
        }
    }
}

extension ContainerEngine {
    /// `cove-unshare exec …` with our stdio; signals passed on; its exit code.
    public func exec(_ r: ContainerRecord, arguments: [String], interactive: Bool = true) throws -> Int32 {
        let (unshare, base) = try runtimeArgs()
        var options = Spawn.Options()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if !interactive && null >= 0 { options.fds = [(0, null)] }
        defer { if null >= 0 { close(null) } }
        let pid = try Spawn.spawn(unshare, base + ["exec"] + arguments, env: Spawn.currentEnvironment, options: options)
        return Processes.waitForwardingSignals(pid).code
    }
}

extension ContainerEngine {
    /// `cove-unshare --root … ARGS`, captured.
    public func runtime(_ args: [String]) throws -> (ExitStatus, [UInt8], [UInt8]) {
        let (unshare, base) = try runtimeArgs()
        let r = try Spawn.capture(unshare, Array(base.dropFirst()) + args)
        return (r.status, r.out, r.err)
    }
}
