import CoveLinux
import CoveModel

/// The container's mounts: the kernel filesystems every container has,
/// its /etc/hostname, /etc/hosts and /etc/resolv.conf, and the user's
/// -v, --mount and --tmpfs, in docker's syntax, and an anonymous volume
/// for each of the image's VOLUME paths no flag covers.
struct ContainerMounts {
    let options: RunOptions
    let etcDir: String
    /// For volumes: the store, and the image's layers (bottom first) a new
    /// volume is filled from.
    var volumes: VolumeStore? = nil
    var layers: [String] = []
    /// The image's Config.Volumes.
    var imageVolumes: [String] = []
    /// The container anonymous volumes are made for.
    var containerID: String? = nil

    static func mount(_ dest: String, _ type: String, _ source: String, _ options: [String]) -> JSON {
        .object([("destination", .string(dest)), ("type", .string(type)), ("source", .string(source)),
                 ("options", .array(options.map { .string($0) }))])
    }

    func all(rootMount: JSON?) throws -> [JSON] {
        var list: [JSON] = []
        if let rootMount { list.append(rootMount) }
        list += [
            Self.mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
            Self.mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Self.mount("/dev/pts", "devpts", "devpts", ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]),
            Self.mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Self.mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
            Self.mount("/sys", options.network == "host" ? "none" : "sysfs",
                       options.network == "host" ? "/sys" : "sysfs",
                       (options.network == "host" ? ["rbind"] : []) + ["nosuid", "noexec", "nodev", "ro"]),
        ]
        for name in ["hostname", "hosts", "resolv.conf"] {
            list.append(Self.mount("/etc/" + name, "bind", etcDir + "/" + name, ["rbind", "rprivate"]))
        }
        if options.readOnly && options.readOnlyTmpfs {
            for dir in ["/tmp", "/var/tmp", "/run"] {
                list.append(Self.mount(dir, "tmpfs", "tmpfs", ["rw", "nosuid", "nodev", "mode=1777"]))
            }
        }
        var user: [JSON] = []
        for v in options.volumes { user.append(try volume(v)) }
        for m in options.mounts { user.append(try mountFlag(m)) }
        for t in options.tmpfs { user.append(try tmpfs(t)) }
        let covered = Set(user.compactMap { $0["destination"]?.stringValue }.map(Self.clean))
        var fromImage: [JSON] = []
        for path in Set(imageVolumes.map(Self.clean)).sorted() where path != "/" && !covered.contains(path) {
            fromImage.append(Self.mount(path, "bind", try namedVolume(nil, at: path, copy: true), ["rbind", "rw"]))
        }
        // As docker: a parent before what is mounted inside it, whichever
        // flag or the image named it first.
        return list + Self.sortedByDepth(fromImage + user)
    }

    /// "/data/" and "//data" as "/data".
    static func clean(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// Stable: by the number of components of the destination.
    static func sortedByDepth(_ mounts: [JSON]) -> [JSON] {
        mounts.enumerated().sorted { a, b in
            let da = clean(a.element["destination"]?.stringValue ?? "").split(separator: "/").count
            let db = clean(b.element["destination"]?.stringValue ?? "").split(separator: "/").count
            return da != db ? da < db : a.offset < b.offset
        }.map(\.element)
    }

    /// -v HOST:CTR[:OPTS]; OPTS a comma list of ro, rw, z, Z, (r)private…
    /// -v /CTR alone: a new anonymous volume there.
    func volume(_ spec: String) throws -> JSON {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 && spec.hasPrefix("/") {
            return Self.mount(spec, "bind", try namedVolume(nil, at: spec, copy: true), ["rbind", "rw"])
        }
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty, parts[1].hasPrefix("/") else {
            throw EngineError("invalid volume \"\(spec)\": use -v HOST-DIR:CONTAINER-DIR[:ro], -v NAME:CONTAINER-DIR or -v CONTAINER-DIR")
        }
        var opts = ["rbind"]
        for o in parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : [] {
            switch o {
            case "ro", "rw": opts.append(o)
            case "z", "Z", "U": continue
            case "private", "rprivate", "shared", "rshared", "slave", "rslave": opts.append(o)
            default: throw EngineError("invalid volume option \"\(o)\" in \"\(spec)\"")
            }
        }
        if !(parts[0].hasPrefix("/") || parts[0].hasPrefix(".")) {
            return Self.mount(parts[1], "bind", try namedVolume(parts[0], at: parts[1], copy: true), opts)
        }
        let source = Files.absolute(parts[0])
        guard Files.lstatMode(source) != nil else {
            throw EngineError("invalid volume \"\(spec)\": \(source) does not exist")
        }
        return Self.mount(parts[1], "bind", source, opts)
    }

    /// --mount type=bind|tmpfs,source=…,target=…,readonly
    func mountFlag(_ spec: String) throws -> JSON {
        var kv: [String: String] = [:]
        var flags: Set<String> = []
        for item in spec.split(separator: ",").map(String.init) {
            if let eq = item.firstIndex(of: "=") { kv[String(item[..<eq])] = String(item[item.index(after: eq)...]) } else { flags.insert(item) }
        }
        let target = kv["target"] ?? kv["destination"] ?? kv["dst"] ?? ""
        guard target.hasPrefix("/") else { throw EngineError("invalid --mount \"\(spec)\": it needs target=/PATH") }
        let ro = flags.contains("readonly") || flags.contains("ro") || kv["readonly"] == "true" || kv["ro"] == "true"
        switch kv["type"] ?? "volume" {
        case "bind":
            guard let src = kv["source"] ?? kv["src"] else { throw EngineError("invalid --mount \"\(spec)\": a bind needs source=") }
            let source = Files.absolute(src)
            guard Files.lstatMode(source) != nil else { throw EngineError("invalid --mount \"\(spec)\": \(source) does not exist") }
            return Self.mount(target, "bind", source, ["rbind", ro ? "ro" : "rw"])
        case "tmpfs":
            var opts = ["rw", "nosuid", "nodev"]
            if let size = kv["tmpfs-size"] { opts.append("size=\(size)") }
            if let mode = kv["tmpfs-mode"] { opts.append("mode=\(mode)") }
            return Self.mount(target, "tmpfs", "tmpfs", opts)
        case "volume":
            // No source: an anonymous volume, as docker makes one.
            let source = try namedVolume(kv["source"] ?? kv["src"], at: target,
                                         copy: !(flags.contains("volume-nocopy") || kv["volume-nocopy"] == "true"))
            return Self.mount(target, "bind", source, ["rbind", ro ? "ro" : "rw"])
        case let t:
            throw EngineError("--mount type=\(t) is not supported: use type=bind, volume or tmpfs")
        }
    }

    /// A volume's data directory: a named one created when missing (as
    /// docker), without a name a new anonymous one for this container; a
    /// new, empty one is first filled from the image's `path`.
    func namedVolume(_ name: String?, at path: String, copy: Bool) throws -> String {
        guard let volumes else {
            throw EngineError("volume \(name ?? "for \(path)") cannot be made here: give a host path")
        }
        let (v, _) = try volumes.create(name, anonymousFor: name == nil ? containerID ?? "" : nil)
        if copy && !layers.isEmpty { try volumes.fill(v.name, from: layers, path: path) }
        return v.mountpoint
    }

    /// --tmpfs PATH[:OPTS]
    func tmpfs(_ spec: String) throws -> JSON {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard let path = parts.first, path.hasPrefix("/") else {
            throw EngineError("invalid --tmpfs \"\(spec)\": use --tmpfs /PATH[:OPTIONS]")
        }
        let opts = parts.count > 1 ? parts[1].split(separator: ",").map(String.init) : ["rw", "nosuid", "nodev", "noexec"]
        return Self.mount(path, "tmpfs", "tmpfs", opts)
    }
}
