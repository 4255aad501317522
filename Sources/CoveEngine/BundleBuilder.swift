#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux
import CoveModel

/// The container's config.json, from the image and the run flags, with
/// docker's rules for what runs (entrypoint + cmd), its environment, user
/// and working directory, and podman's defaults for everything else.
public struct BundleBuilder {
    public let options: RunOptions
    public let image: StoredImage
    /// Unpacked layers, bottom first.
    public let layers: [String]
    /// `<root>/containers/<id>`: upper/, work/, rootfs/, hostname, hosts…
    public let containerDir: String
    /// Where /etc/hostname, /etc/hosts and /etc/resolv.conf are written
    /// (and bind-mounted from): the container's directory, or for a --rm
    /// container the runtime directory, a tmpfs as a rule (ContainerEngine.etcDir).
    public var etcDir: String
    public let id: String
    /// `--userns=keep-id`: the user namespace's maps and the default user.
    public var keepID: KeepIDPlan?
    /// Where `-v NAME:/path`, `-v /path`, `--mount type=volume` and the
    /// image's VOLUME paths find their volumes.
    public var volumes: VolumeStore?

    /// `--network ns:PATH|container:NAME`: namespaces joined by path.
    public struct JoinedNetwork: Sendable {
        public var network: String
        /// The user namespace owning `network`, joined too (with no id maps of ours).
        public var user: String
        /// container:NAME: that container's directory, whose hosts and resolv.conf are shared.
        public var etcFrom: String?
        public var container: String?
    }
    public var joinedNetwork: JoinedNetwork?

    /// With --init: the host path of cove-unshare, bind-mounted as the
    /// container's /dev/init (it acts as init when called so).
    public var initBinary: String?

    public init(options: RunOptions, image: StoredImage, layers: [String], containerDir: String, id: String) {
        self.options = options; self.image = image; self.layers = layers; self.containerDir = containerDir; self.id = id
        etcDir = containerDir
    }

    /// The address pasta answers DNS on, forwarding to the host's resolver.
    public static let pastaDNS = "169.254.1.1"

    static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// entrypoint + cmd, as docker resolves them: `--entrypoint` replaces
    /// the image's and drops its cmd; arguments after the image replace the cmd.
    public func processArgs() throws -> [String] {
        let entry: [String]
        var cmd: [String]
        if let e = options.entrypoint {
            entry = e.isEmpty ? [] : [e]
            cmd = []
        } else {
            entry = image.config.entrypoint ?? []
            cmd = image.config.cmd ?? []
        }
        if !options.command.isEmpty { cmd = options.command }
        let args = entry + cmd
        guard !args.isEmpty else {
            throw EngineError("no command specified: the image \(image.record.name) has no entrypoint or cmd; give one after the image name")
        }
        return args
    }

    public var hostname: String { options.hostname ?? String(id.prefix(12)) }

    /// KEY=VALUE list: image env, then ours, then --env-file and -e (a bare
    /// KEY takes the caller's value, or is dropped when unset).
    public func environment(home: String) throws -> [String] {
        var env: [(String, String)] = []
        func set(_ k: String, _ v: String) {
            if let i = env.firstIndex(where: { $0.0 == k }) { env[i].1 = v } else { env.append((k, v)) }
        }
        func add(_ item: String) {
            if let eq = item.firstIndex(of: "=") {
                set(String(item[..<eq]), String(item[item.index(after: eq)...]))
            } else if let v = Environment.get(item) {
                set(item, v)
            }
        }
        for e in image.config.env { add(e) }
        if !env.contains(where: { $0.0 == "PATH" }) { add(Self.defaultPath) }
        set("TERM", "xterm")
        set("container", "cove")
        if !image.config.env.contains(where: { $0.hasPrefix("HOME=") }) { set("HOME", home) }
        set("HOSTNAME", hostname)
        for file in options.envFiles {
            let text: String
            do { text = try Files.readText(file) } catch { throw EngineError("cannot read env file \(file): \(error)") }
            for line in text.split(separator: "\n") {
                let l = String(line).trimmingCharacters(in: " \t\r")
                if l.isEmpty || l.hasPrefix("#") { continue }
                add(l)
            }
        }
        for e in options.env { add(e) }
        return env.map { "\($0.0)=\($0.1)" }
    }

    /// The user as uid/gid/groups and home, looked up in the image's
    /// /etc/passwd and /etc/group (the topmost layer that has them).
    public func resolveUser() throws -> (uid: UInt32, gid: UInt32, groups: [UInt32], home: String) {
        // keep-id without --user: the caller's own ids, as podman.
        let spec = options.user ?? keepID.map { "\($0.uid):\($0.gid)" } ?? image.config.user
        let passwd = readImageFile("etc/passwd")
        let group = readImageFile("etc/group")
        let users = passwd.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        let groups = group.split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false) }
        if spec.isEmpty { return (0, 0, [0], home(of: 0, users) ?? "/root") }
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        var uid: UInt32, gid: UInt32 = 0, name: String?
        if let n = UInt32(parts[0]) {
            uid = n
            if let u = users.first(where: { $0.count > 3 && UInt32($0[2]) == n }) { gid = UInt32(u[3]) ?? 0; name = String(u[0]) }
        } else if let u = users.first(where: { $0.count > 3 && $0[0] == parts[0] }), let n = UInt32(u[2]) {
            uid = n; gid = UInt32(u[3]) ?? 0; name = parts[0]
        } else {
            throw EngineError("unable to find user \(parts[0]): no matching entries in the image's /etc/passwd")
        }
        if parts.count > 1 {
            if let g = UInt32(parts[1]) { gid = g } else if let g = groups.first(where: { $0.count > 2 && $0[0] == parts[1] }),
                                                             let n = UInt32(g[2]) { gid = n } else {
                throw EngineError("unable to find group \(parts[1]): no matching entries in the image's /etc/group")
            }
        }
        var extra: [UInt32] = []
        if let name, parts.count == 1 {
            for g in groups where g.count > 3 && g[3].split(separator: ",").contains(Substring(name)) {
                if let n = UInt32(g[2]), n != gid { extra.append(n) }
            }
        }
        // As podman: the primary group is among the supplementary ones too.
        return (uid, gid, [gid] + extra, home(of: uid, users) ?? "/")
    }

    func home(of uid: UInt32, _ users: [[Substring]]) -> String? {
        users.first { $0.count > 5 && UInt32($0[2]) == uid }.map { String($0[5]) }
    }

    /// A small file of the image, from the topmost layer holding it. Read
    /// with the layer as root (openat2 RESOLVE_IN_ROOT): a symlink in an
    /// image (`etc -> /etc`) never reads the host's files.
    func readImageFile(_ rel: String) -> String {
        for dir in layers.reversed() {
            guard let root = try? ConfinedRoot(dir) else { continue }
            defer { root.close() }
            if root.exists(rel) {
                return root.readFile(rel).map { String(decoding: $0, as: UTF8.self) } ?? ""
            }
        }
        return ""
    }

    public struct Output {
        public var config: JSON
        public var args: [String]
        public var stopSignal: String
    }

    /// Writes hostname, hosts and resolv.conf into the container directory
    /// and returns the config.
    public func build(rootMount: JSON?, rootPath: String) throws -> Output {
        let args = try processArgs()
        let user = try resolveUser()
        let env = try environment(home: user.home)
        let caps = try DefaultSecurity.capabilities(add: options.capAdd, drop: options.capDrop, privileged: options.privileged)
        let capsJSON = JSON.array(caps.map { .string($0) })
        // podman: open files up to the caller's own hard limit (raising it needs privileges).
        var lim = rlimit()
        let nofile = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim) == 0 ? UInt64(lim.rlim_max) : 1024
        var noNewPrivileges = false
        var seccomp: JSON? = DefaultSeccomp.profile(capabilities: caps)
        for opt in options.securityOpts {
            let (k, v) = opt.firstIndex(where: { $0 == "=" || $0 == ":" }).map {
                (String(opt[..<$0]), String(opt[opt.index(after: $0)...]))
            } ?? (opt, "")
            switch k {
            case "no-new-privileges": noNewPrivileges = v.isEmpty || v == "true"
            case "seccomp":
                if v == "unconfined" { seccomp = nil } else {
                    do { seccomp = try JSON.parse(try Files.read(v)) } catch {
                        throw EngineError("cannot use seccomp profile \(v): \(error)")
                    }
                }
            case "label", "apparmor", "mask", "unmask": continue   // no LSM here to configure
            default: throw EngineError("invalid --security-opt \"\(opt)\": use seccomp=PROFILE|unconfined or no-new-privileges")
            }
        }
        if options.privileged { seccomp = nil }

        let processPairs: [(String, JSON)] = [
            ("terminal", .bool(options.tty)),
            ("user", .object([("uid", .int(user.uid)), ("gid", .int(user.gid)),
                              ("additionalGids", .array(user.groups.map { .int($0) }))])),
            ("args", .array(((initBinary != nil ? ["/dev/init", "--"] : []) + args).map { .string($0) })),
            ("env", .array(env.map { .string($0) })),
            ("cwd", .string(workdir)),
            ("capabilities", .object(["bounding", "effective", "permitted"].map { ($0, capsJSON) })),
            ("rlimits", .array([.object([("type", .string("RLIMIT_NOFILE")), ("hard", .int(nofile)),
                                         ("soft", .int(nofile))])])),
            ("noNewPrivileges", .bool(noNewPrivileges)),
        ]

        var mounts = try ContainerMounts(options: options, etcDir: etcDir, volumes: volumes, layers: layers,
                                         imageVolumes: image.config.volumes, containerID: id)
            .all(rootMount: rootMount)
        if let initBinary {
            mounts.append(ContainerMounts.mount("/dev/init", "bind", initBinary, ["bind", "ro", "nosuid", "nodev"]))
        }
        try writeEtcFiles()

        var namespaces: [JSON] = ["pid", "ipc", "uts", "mount", "cgroup"].map { .object([("type", .string($0))]) }
        if let j = joinedNetwork {
            // runtime-spec: a namespace with a path is joined (setns), not made.
            namespaces.append(.object([("type", .string("user")), ("path", .string(j.user))]))
            namespaces.append(.object([("type", .string("network")), ("path", .string(j.network))]))
        } else {
            namespaces.append(.object([("type", .string("user"))]))
            if options.network != "host" { namespaces.append(.object([("type", .string("network"))])) }
        }
        var linux: [(String, JSON)] = [("namespaces", .array(namespaces))]
        if !options.privileged {
            linux.append(("maskedPaths", .array(DefaultSecurity.maskedPaths.map { .string($0) })))
            linux.append(("readonlyPaths", .array(DefaultSecurity.readonlyPaths.map { .string($0) })))
        }
        if let k = keepID, joinedNetwork == nil {
            func maps(_ m: [RuntimeSpec.IDMapping]) -> JSON {
                .array(m.map { .object([("containerID", .int($0.containerID)), ("hostID", .int($0.hostID)), ("size", .int($0.size))]) })
            }
            linux.append(("uidMappings", maps(k.uidMappings)))
            linux.append(("gidMappings", maps(k.gidMappings)))
        }
        if let seccomp { linux.append(("seccomp", seccomp)) }
        if let resources = try resources() { linux.append(("resources", resources)) }

        let config = JSON.object([
            ("ociVersion", .string("1.2.0")),
            ("process", .object(processPairs)),
            ("root", .object([("path", .string(rootPath)), ("readonly", .bool(options.readOnly))])),
            ("hostname", .string(hostname)),
            ("mounts", .array(mounts)),
            ("annotations", .object([("io.cove.image", .string(image.record.name))])),
            ("linux", .object(linux)),
        ])
        let stop = options.stopSignal ?? image.config.stopSignal ?? "TERM"
        return Output(config: config, args: args, stopSignal: stop)
    }

    public var workdir: String {
        let w = options.workdir ?? image.config.workingDir
        return w.isEmpty ? "/" : (w.hasPrefix("/") ? w : "/" + w)
    }

    func writeEtcFiles() throws {
        try Files.writeAtomically(etcDir + "/hostname", Array((hostname + "\n").utf8), durable: false)
        var hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        let name = hostname
        if options.network == "slirp4netns" || options.network.hasPrefix("slirp") {
            hosts += "10.0.2.100\t\(name)\n10.0.2.2\thost.containers.internal\n"
        } else if let other = joinedNetwork?.etcFrom, let theirs = try? Files.readText(other + "/hosts") {
            // container:NAME shares its network and so its names.
            hosts = theirs
        } else {
            hosts += "127.0.1.1\t\(name)\n"
        }
        try Files.writeAtomically(etcDir + "/hosts", Array(hosts.utf8), durable: false)
        let resolv: String
        if options.network == "slirp4netns" || options.network.hasPrefix("slirp") {
            resolv = "nameserver 10.0.2.3\n"
        } else if options.network == "pasta" || options.network.hasPrefix("pasta:") {
            // cove-net runs pasta with --dns-forward at this address (as podman).
            resolv = "nameserver \(BundleBuilder.pastaDNS)\n"
        } else if let other = joinedNetwork?.etcFrom, let theirs = try? Files.readText(other + "/resolv.conf") {
            resolv = theirs
        } else {
            resolv = (try? Files.readText("/etc/resolv.conf")) ?? ""
        }
        try Files.writeAtomically(etcDir + "/resolv.conf", Array(resolv.utf8), durable: false)
    }

    /// --memory, --cpus, --pids-limit as linux.resources; cove-unshare
    /// applies them where a delegated cgroup exists and warns once elsewhere.
    func resources() throws -> JSON? {
        var r: [(String, JSON)] = []
        if let m = options.memory {
            guard let bytes = Self.parseSize(m) else { throw EngineError("invalid --memory \"\(m)\": use a size such as 512m or 2g") }
            r.append(("memory", .object([("limit", .int(bytes))])))
        }
        if let c = options.cpus {
            guard let v = Double(c), v > 0 else { throw EngineError("invalid --cpus \"\(c)\": use a number such as 1.5") }
            r.append(("cpu", .object([("quota", .int(Int64(v * 100_000))), ("period", .int(100_000))])))
        }
        if let p = options.pidsLimit { r.append(("pids", .object([("limit", .int(p))]))) }
        return r.isEmpty ? nil : .object(r)
    }

    /// "512m" → bytes (b, k, m, g; docker's units, powers of 1024).
    public static func parseSize(_ s: String) -> Int64? {
        let lower = s.lowercased()
        let units: [(String, Int64)] = [("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30), ("k", 1 << 10), ("m", 1 << 20),
                                        ("g", 1 << 30), ("b", 1)]
        for (u, mult) in units where lower.hasSuffix(u) {
            return Int64(lower.dropLast(u.count)).map { $0 * mult }
        }
        return Int64(lower)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
