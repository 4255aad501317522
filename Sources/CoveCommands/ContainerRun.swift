import ArgumentParser
import CoveEngine
import CoveImages
import CoveLinux

/// The flags `cove run` and `cove create` share, with docker's names.
struct RunFlags: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Run in the background and print the container ID.") var detach = false
    @Flag(name: .shortAndLong, help: "Keep stdin open.") var interactive = false
    @Flag(name: .shortAndLong, help: "Allocate a terminal.") var tty = false
    @Flag(name: .customLong("rm"), help: "Remove the container when it exits.") var remove = false
    @Option(name: .long, help: "Name the container.") var name: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Set an environment variable.", valueName: "KEY=VALUE")) var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read environment variables from a file.") var envFile: [String] = []
    @Option(name: .shortAndLong, help: "Working directory inside the container.") var workdir: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("User to run as.", valueName: "user[:group]")) var user: String?
    @Option(name: .long, help: "Override the image's entrypoint.") var entrypoint: String?
    @Option(name: .long, help: "The container's host name.") var hostname: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("Bind mount a host directory or a volume; a new anonymous volume with ctr alone.", valueName: "[host|name:]ctr[:ro]")) var volume: [String] = []
    @Option(name: .long, help: ArgumentHelp("Attach a mount.", valueName: "type=bind|volume|tmpfs,...")) var mount: [String] = []
    @Option(name: .long, help: ArgumentHelp("Mount a tmpfs.", valueName: "path[:opts]")) var tmpfs: [String] = []
    @Option(name: .shortAndLong, help: ArgumentHelp("Publish a port or a range (8000-8003:80-83); no host port: a free one.", valueName: "[ip:][host:]ctr[/proto]")) var publish: [String] = []
    @Option(name: [.customLong("network"), .customLong("net")], help: "slirp4netns[:opts] (default), pasta[:opts], none, host, ns:PATH or container:NAME.") var network = "slirp4netns"
    @Option(name: .customLong("cap-add"), help: "Add a capability.") var capAdd: [String] = []
    @Option(name: .customLong("cap-drop"), help: "Drop a capability.") var capDrop: [String] = []
    @Flag(name: .long, help: "Give the container every capability and no seccomp filter.") var privileged = false
    @Flag(name: .customLong("read-only"), help: "Mount the root filesystem read-only.") var readOnly = false
    @Option(name: .customLong("read-only-tmpfs"), help: "With --read-only, tmpfs on /tmp, /var/tmp and /run.") var readOnlyTmpfs = true
    @Option(name: .customLong("security-opt"), help: "seccomp=PROFILE|unconfined, no-new-privileges.") var securityOpt: [String] = []
    @Option(name: .long, help: "User namespace mode (keep-id).") var userns: String?
    @Flag(name: .long, help: "Run an init inside that reaps zombies and forwards signals.") var `init` = false
    @Option(name: .customLong("stop-signal"), help: "Signal that stops the container.") var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), help: "Seconds to wait before killing it.") var stopTimeout: Int?
    @Option(name: [.customShort("l"), .long], help: "Set a label.") var label: [String] = []
    @Option(name: .long, help: "Pull policy: missing, always or never.") var pull = "missing"
    @Option(name: [.customShort("m"), .long], help: "Memory limit.") var memory: String?
    @Option(name: .long, help: "CPU limit.") var cpus: String?
    @Option(name: .customLong("pids-limit"), help: "Limit on processes.") var pidsLimit: Int?
    @Option(name: .long, help: "Where images are stored.") var root: String?
    @Option(name: .customLong("log-opt"), help: ArgumentHelp("Log option: max-size=SIZE (rotation).", valueName: "opt"))
    var logOpt: [String] = []
    @Option(name: .long, help: ArgumentHelp("Platform to pull (default: this machine).", valueName: "os/arch[/variant]"))
    var platform: String?
    @Option(name: .customLong("tls-verify"), help: "Require HTTPS with a verified certificate when pulling.")
    var tlsVerify = true

    @Argument(help: "The image.") var image: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String] = []

    static let networkDiscussion = """
        Networks (--network): slirp4netns, the default, is cove-net (libslirp behind tap0, 10.0.2.100/24, DNS at \
        10.0.2.3; options allow_host_loopback=true, mtu=N). pasta[:OPT,...] runs pasta (Debian's passt package) \
        as podman does, -p as its -t/-u. ns:PATH joins a network namespace, and the user namespace owning it: \
        rootless, that must be one of the user's own with a process left in it (e.g. /proc/PID/ns/net of an \
        `unshare -rn` process); one of the host's cannot be joined. container:NAME shares a running container's \
        network namespace and its user namespace, as podman shares its rootless one. -p takes [IP:][HOST:]CTR[/tcp|udp], \
        each port a number or a range A-B of the same length on both sides; without HOST a free port is chosen \
        when the container is created (`cove port` shows it).
        """

    /// The parsed values, as plain data.
    var args: RunArgs {
        RunArgs(detach: detach, interactive: interactive, tty: tty, remove: remove, name: name, env: env, envFile: envFile,
                workdir: workdir, user: user, entrypoint: entrypoint, hostname: hostname, volume: volume, mount: mount,
                tmpfs: tmpfs, publish: publish, network: network, capAdd: capAdd, capDrop: capDrop,
                privileged: privileged, readOnly: readOnly, readOnlyTmpfs: readOnlyTmpfs, securityOpt: securityOpt,
                userns: userns, initProcess: `init`, stopSignal: stopSignal, stopTimeout: stopTimeout, label: label,
                pull: pull, memory: memory, cpus: cpus, pidsLimit: pidsLimit, root: root, logOpt: logOpt,
                platform: platform, tlsVerify: tlsVerify, image: image, command: command)
    }
}

/// What `cove run` and `cove create` were asked, as plain values: from
/// RunFlags, or from QuickRunParser (the common command lines, parsed
/// without ArgumentParser's runtime reflection).
struct RunArgs: Equatable {
    var detach = false, interactive = false, tty = false, remove = false
    var name: String?
    var env: [String] = [], envFile: [String] = []
    var workdir: String?, user: String?, entrypoint: String?, hostname: String?
    var volume: [String] = [], mount: [String] = [], tmpfs: [String] = [], publish: [String] = []
    var network = "slirp4netns"
    var capAdd: [String] = [], capDrop: [String] = []
    var privileged = false, readOnly = false, readOnlyTmpfs = true
    var securityOpt: [String] = []
    var userns: String?
    var initProcess = false
    var stopSignal: String?
    var stopTimeout: Int?
    var label: [String] = []
    var pull = "missing"
    var memory: String?, cpus: String?
    var pidsLimit: Int?
    var root: String?
    var logOpt: [String] = []
    var platform: String?
    var tlsVerify = true
    var image = ""
    var command: [String] = []

    func options() throws -> RunOptions {
        var o = RunOptions()
        o.image = image; o.command = command; o.entrypoint = entrypoint; o.env = env; o.envFiles = envFile
        o.workdir = workdir; o.user = user; o.hostname = hostname; o.name = name; o.tty = tty
        o.interactive = interactive; o.detach = detach; o.autoRemove = remove; o.volumes = volume; o.mounts = mount
        o.tmpfs = tmpfs; o.publish = publish; o.network = network; o.capAdd = capAdd; o.capDrop = capDrop
        o.privileged = privileged; o.readOnly = readOnly; o.readOnlyTmpfs = readOnlyTmpfs; o.securityOpts = securityOpt
        o.userns = userns; o.initProcess = initProcess; o.stopSignal = stopSignal; o.stopTimeout = stopTimeout
        o.labels = label; o.pull = pull; o.memory = memory; o.cpus = cpus; o.pidsLimit = pidsLimit
        o.storageDriver = GlobalOptions.storageDriver
        for opt in logOpt {
            guard opt.hasPrefix("max-size="), let n = BundleBuilder.parseSize(String(opt.dropFirst(9))), n > 0 else {
                throw EngineError("unsupported --log-opt \"\(opt)\": cove's json-file log takes max-size=SIZE")
            }
            o.logMaxSize = n
        }
        guard ["missing", "always", "never"].contains(pull) else {
            throw EngineError("invalid --pull \"\(pull)\": use missing, always or never")
        }
        if let s = stopSignal, Signals.parse(s) == nil { throw EngineError("invalid --stop-signal \"\(s)\"") }
        return o
    }

    /// Creates the container from the flags, pulling the image when the
    /// policy says so.
    func createContainer(_ engine: ContainerEngine, startsAttached: Bool = false, presetID: String? = nil) throws -> ContainerRecord {
        var o = try options()
        o.startsAttached = startsAttached
        o.presetID = presetID
        let image = try ImageResolver.resolve(o.image, policy: o.pull, store: try engine.imageStore, platform: platform,
                                              tlsVerify: tlsVerify)
        return try engine.create(o, image: image)
    }
}

/// Finds an image locally, pulling it when it is missing (or always).
enum ImageResolver {
    static func resolve(_ name: String, policy: String, store: ContentStore, platform: String? = nil,
                        tlsVerify: Bool = true) throws -> ImageRecord {
        let index = ImageIndex(store: store)
        if policy != "always", let r = try index.find(name) { return r }
        if policy == "never" {
            throw EngineError("image \(name) is not in the local store and --pull=never: pull or load it first")
        }
        // Not here: a short name that is a local image's ID prefix or a
        // malformed reference is not worth a registry round trip.
        guard (try? ImageReference(parsing: name)) != nil else {
            throw EngineError("image \(name) not found in the local store, and it is no reference to pull")
        }
        do {
            try TransferHelper.pull(name, dataRoot: store.root, platform: platform, tlsVerify: tlsVerify)
        } catch let e as ExitCode { throw e } catch {
            throw EngineError("image \(name) is not in the local store and pulling it failed: \(error)")
        }
        guard let r = try index.find(name) else {
            throw EngineError("image \(name) was pulled but is not in the store's index: pull it again")
        }
        return r
    }
}

/// `cove run`: create and start; attached unless -d.
struct ContainerRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a command in a new container.",
                                                    discussion: RunFlags.networkDiscussion)

    @OptionGroup var flags: RunFlags

    func run() throws { try Self.run(flags.args) }

    static func run(_ flags: RunArgs) throws {
        let engine = try failing125 { try GlobalOptions.engine(root: flags.root) }
        // Attached, cove-unshare starts before the container is made and
        // makes its namespaces and id maps while the front works, and
        // cove-net for the default network starts at go, to load while the
        // container is set up (see startEarly); without an early start,
        // cove-net starts now. Detached, the monitor starts both.
        let network = flags.detach ? nil : engine.networkChannel(network: flags.network)
        let early = flags.detach ? nil : (try? flags.options()).flatMap { engine.startEarly($0, network: network) }
        // Its helper end is consumed either way (started, or closed on a
        // failed start, which cove-unshare then reports).
        let helperStarted = early == nil && network != nil
        if helperStarted, let network { engine.startNetworkHelper(network) }
        let record: ContainerRecord
        do {
            record = try failing125 { try flags.createContainer(engine, startsAttached: !flags.detach, presetID: early?.id) }
        } catch {
            network?.runtime.close()
            if !helperStarted { network?.helper.close() }
            if let early { engine.abandon(early) }
            throw error
        }
        if flags.detach {
            try failing125 {
                do { try engine.startDetached(record) } catch {
                    if flags.remove { try? engine.remove(record, force: true, volumes: true) }
                    throw error
                }
            }
            print(record.id)
            return
        }
        let code: Int32
        do {
            code = try failing125 {
                try engine.runAttached(record, fresh: true, recordExit: !flags.remove, network: network,
                                       helperStarted: helperStarted, early: early, reapHelpers: !flags.remove)
            }
        } catch {
            // Not started: --rm removes it all the same, as docker does;
            // else it stays, created and never started.
            if flags.remove {
                try? engine.remove(record, force: true, volumes: true)
            } else {
                _ = try? engine.containers.update(record.id) { $0.startedAt = "" }
            }
            throw error
        }
        // The record in hand: finding it again would read every record.
        if flags.remove {
            // cove-net ends meanwhile (it watches init's pidfd), touching
            // nothing of the container's: not waited for, it is reparented
            // when we exit; unless it may hold host ports, then before the
            // removal's child is made.
            var reaped = !ContainerEngine.helperMayHoldPorts(record)
            let reap = { if !reaped { reaped = true; _ = Processes.reapRemaining(seconds: 2) } }
            do { try engine.removeExited(record, beforeBackground: reap) } catch { reap() }
        }
        throw ExitCode(code)
    }
}

/// `cove create`: the container, ready to start.
struct ContainerCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container without starting it.",
                                                    discussion: RunFlags.networkDiscussion)

    @OptionGroup var flags: RunFlags

    func run() throws { try Self.run(flags.args) }

    static func run(_ flags: RunArgs) throws {
        let engine = try failing125 { try GlobalOptions.engine(root: flags.root) }
        let record = try failing125 { try flags.createContainer(engine) }
        print(record.id)
    }
}
