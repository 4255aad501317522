/// The config.json that `cove-unshare spec` writes: runc's default shape,
/// and with `rootless` a user namespace mapping the caller to root and a
/// bind of /sys (a new sysfs needs privileges over the network namespace).
public enum DefaultSpec {
    public static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ]
    public static let readonlyPaths = [
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    ]

    static func mount(_ dest: String, _ type: String, _ source: String, _ options: [String]) -> JSON {
        .object([("destination", .string(dest)), ("type", .string(type)), ("source", .string(source)),
                 ("options", .array(options.map { .string($0) }))])
    }

    public static func make(rootless: Bool, uid: UInt32, gid: UInt32) -> JSON {
        let caps: JSON = .array(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"].map { .string($0) })
        let process: JSON = .object([
            ("terminal", .bool(false)),
            ("user", .object([("uid", .int(0)), ("gid", .int(0))])),
            ("args", .array([.string("sh")])),
            ("env", .array([.string("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                            .string("TERM=xterm")])),
            ("cwd", .string("/")),
            ("capabilities", .object([("bounding", caps), ("effective", caps), ("permitted", caps)])),
            ("rlimits", .array([.object([("type", .string("RLIMIT_NOFILE")), ("hard", .int(1024)),
                                         ("soft", .int(1024))])])),
            ("noNewPrivileges", .bool(true)),
        ])
        var mounts: [JSON] = [
            mount("/proc", "proc", "proc", []),
            mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            mount("/dev/pts", "devpts", "devpts",
                  ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] + (rootless ? [] : ["gid=5"])),
            mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        ]
        if rootless {
            mounts.append(mount("/sys", "none", "/sys", ["rbind", "nosuid", "noexec", "nodev", "ro"]))
        } else {
            mounts.append(mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]))
            mounts.append(mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "relatime", "ro"]))
        }
        var namespaces: [JSON] = ["pid", "network", "ipc", "uts", "mount", "cgroup"].map { .object([("type", .string($0))]) }
        var linux: [(String, JSON)] = []
        if rootless {
            namespaces.append(.object([("type", .string("user"))]))
            linux.append(("uidMappings", .array([.object([("containerID", .int(0)), ("hostID", .int(uid)), ("size", .int(1))])])))
            linux.append(("gidMappings", .array([.object([("containerID", .int(0)), ("hostID", .int(gid)), ("size", .int(1))])])))
        }
        linux.append(("namespaces", .array(namespaces)))
        linux.append(("maskedPaths", .array(maskedPaths.map { .string($0) })))
        linux.append(("readonlyPaths", .array(readonlyPaths.map { .string($0) })))
        return .object([
            ("ociVersion", .string("1.2.0")),
            ("process", process),
            ("root", .object([("path", .string("rootfs")), ("readonly", .bool(true))])),
            ("hostname", .string("cove")),
            ("mounts", .array(mounts)),
            ("linux", .object(linux)),
        ])
    }
}
