import CoveModel

/// What `cove doctor` reads of the machine. The real one reads the files;
/// unit tests hand in a machine of their own.
public protocol HostProbe: Sendable {
    var userName: String { get }
    var uid: UInt32 { get }
    var gid: UInt32 { get }
    func environment(_ name: String) -> String?
    func readText(_ path: String) -> String?
    /// Mode and owner of a path (following links), or nil if it is missing.
    func stat(_ path: String) -> (mode: UInt32, uid: UInt32)?
    func hasFileCapabilities(_ path: String) -> Bool
    func canReadWrite(_ path: String) -> Bool
    /// The filesystem type magic (statfs f_type) of the filesystem at path.
    func filesystemType(_ path: String) -> Int64?
    func findExecutable(_ name: String) -> String?
}

/// One finding: a problem stops containers from working and has a fix; a
/// note says what will be limited and how to lift it.
public struct DoctorFinding: Equatable, Sendable {
    public enum Severity: String, Sendable { case ok, note, problem }
    public var severity: Severity
    public var check: String
    public var message: String
    public var fix: String?

    public var line: String {
        var s = "\(severity.rawValue): \(check): \(message)"
        if let fix { s += " — fix: \(fix)" }
        return s
    }
}

/// Every rootless prerequisite, one finding each.
public struct Doctor: Sendable {
    public let probe: HostProbe
    public let storagePath: String

    public init(probe: HostProbe, storagePath: String) {
        self.probe = probe
        self.storagePath = storagePath
    }

    static let nfsMagic: Int64 = 0x6969
    static let cgroup2Magic: Int64 = 0x6367_7270

    public func run() -> [DoctorFinding] {
        [subordinateIDs("/etc/subuid", kind: "uid"), subordinateIDs("/etc/subgid", kind: "gid"),
         idMapper("newuidmap"), idMapper("newgidmap"), userNamespaces(), runtimeDirectory(),
         device("/dev/fuse", use: "fuse-overlayfs, the layered root when the kernel's overlay cannot be used",
                severity: .note),
         // The default network needs it: without it every `cove run` but
         // --network none|host fails.
         device("/dev/net/tun", use: "cove-net, a container's default network (or run with --network none)",
                severity: .problem),
         storage(), cgroups(), ping(),
         unprivilegedPorts()]
    }

    func subordinateIDs(_ file: String, kind: String) -> DoctorFinding {
        let ranges = SubordinateRange.parse(probe.readText(file) ?? "", user: probe.userName, id: probe.uid)
        let check = "\(file)"
        guard let first = ranges.first else {
            return DoctorFinding(severity: .problem, check: check,
                                 message: "no entry for \(probe.userName) (users from LDAP or sssd often have none); "
                                    + "containers get a single \(kind) and cannot chown",
                                 fix: "sudo usermod --add-sub\(kind)s 100000-165535 \(probe.userName)")
        }
        let total = ranges.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        if total < 65536 {
            return DoctorFinding(severity: .note, check: check,
                                 message: "\(total) \(kind)s for \(probe.userName); images that use ids above \(total) will not unpack",
                                 fix: "sudo usermod --add-sub\(kind)s \(first.start)-\(UInt64(first.start) + 65535) \(probe.userName)")
        }
        return DoctorFinding(severity: .ok, check: check, message: "\(total) \(kind)s from \(first.start)")
    }

    func idMapper(_ tool: String) -> DoctorFinding {
        guard let path = probe.findExecutable(tool) else {
            return DoctorFinding(severity: .problem, check: tool, message: "not installed",
                                 fix: "sudo apt-get install uidmap (Fedora: shadow-utils)")
        }
        guard let st = probe.stat(path) else {
            return DoctorFinding(severity: .problem, check: tool, message: "\(path) cannot be read", fix: nil)
        }
        let setuidRoot = st.mode & 0o4000 != 0 && st.uid == 0
        if setuidRoot || probe.hasFileCapabilities(path) {
            return DoctorFinding(severity: .ok, check: tool, message: path)
        }
        return DoctorFinding(severity: .problem, check: tool, message: "\(path) is neither setuid root nor has file capabilities",
                             fix: "sudo chmod u+s \(path) (or: sudo setcap cap_set\(tool == "newuidmap" ? "uid" : "gid")+ep \(path))")
    }

    func userNamespaces() -> DoctorFinding {
        let check = "user namespaces"
        if let max = probe.readText("/proc/sys/user/max_user_namespaces").flatMap({ Int($0.trimmed) }), max == 0 {
            return DoctorFinding(severity: .problem, check: check, message: "user.max_user_namespaces is 0",
                                 fix: "sudo sysctl -w user.max_user_namespaces=28633")
        }
        if let v = probe.readText("/proc/sys/kernel/unprivileged_userns_clone")?.trimmed, v == "0" {
            return DoctorFinding(severity: .problem, check: check, message: "kernel.unprivileged_userns_clone is 0",
                                 fix: "sudo sysctl -w kernel.unprivileged_userns_clone=1")
        }
        if let v = probe.readText("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")?.trimmed, v == "1" {
            return DoctorFinding(severity: .problem, check: check,
                                 message: "AppArmor restricts unprivileged user namespaces (Ubuntu 23.10 and later)",
                                 fix: "add an AppArmor profile allowing userns for cove's helpers, or sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
        }
        return DoctorFinding(severity: .ok, check: check, message: "allowed")
    }

    func runtimeDirectory() -> DoctorFinding {
        let check = "XDG_RUNTIME_DIR"
        let fix = "log in through a session that sets it (not su or sudo -u), or: sudo loginctl enable-linger \(probe.userName); "
            + "cove falls back to /tmp/cove-\(probe.uid)"
        guard let dir = probe.environment("XDG_RUNTIME_DIR"), !dir.isEmpty else {
            return DoctorFinding(severity: .note, check: check, message: "unset", fix: fix)
        }
        guard let st = probe.stat(dir) else {
            return DoctorFinding(severity: .note, check: check, message: "\(dir) does not exist", fix: fix)
        }
        if st.uid != probe.uid {
            return DoctorFinding(severity: .note, check: check, message: "\(dir) belongs to uid \(st.uid), not \(probe.uid)", fix: fix)
        }
        return DoctorFinding(severity: .ok, check: check, message: dir)
    }

    func device(_ path: String, use: String, severity: DoctorFinding.Severity) -> DoctorFinding {
        guard probe.stat(path) != nil else {
            return DoctorFinding(severity: severity, check: path, message: "missing; needed by \(use)",
                                 fix: "sudo modprobe \(path == "/dev/fuse" ? "fuse" : "tun")")
        }
        if probe.canReadWrite(path) { return DoctorFinding(severity: .ok, check: path, message: "usable") }
        return DoctorFinding(severity: severity, check: path, message: "not readable and writable by \(probe.userName); needed by \(use)",
                             fix: "sudo chmod 0666 \(path) (distributions do it with a udev rule)")
    }

    func storage() -> DoctorFinding {
        let check = "storage"
        var probePath = storagePath
        while probe.stat(probePath) == nil, let slash = probePath.lastIndex(of: "/"), slash != probePath.startIndex {
            probePath = String(probePath[..<slash])
        }
        if probe.filesystemType(probePath) == Doctor.nfsMagic {
            return DoctorFinding(severity: .problem, check: check,
                                 message: "\(storagePath) is on NFS, where overlay upper layers and user-namespace ownership do not work",
                                 fix: "put it on a local disk: export XDG_DATA_HOME=/var/tmp/\(probe.userName), or cove --root DIR")
        }
        return DoctorFinding(severity: .ok, check: check, message: storagePath)
    }

    func cgroups() -> DoctorFinding {
        let check = "cgroups"
        guard probe.filesystemType("/sys/fs/cgroup") == Doctor.cgroup2Magic else {
            return DoctorFinding(severity: .note, check: check,
                                 message: "no cgroup v2 hierarchy at /sys/fs/cgroup: --memory, --cpus and --pids-limit are ignored with a warning",
                                 fix: "boot with systemd.unified_cgroup_hierarchy=1")
        }
        let own = probe.readText("/proc/self/cgroup")?.split(separator: "\n")
            .first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) } ?? "/"
        let controllers = probe.readText("/sys/fs/cgroup\(own)/cgroup.controllers")?.split(separator: " ").map { $0.trimmed } ?? []
        let writable = probe.stat("/sys/fs/cgroup\(own)").map { $0.uid == probe.uid } ?? false
        if writable && controllers.contains("memory") && controllers.contains("pids") {
            return DoctorFinding(severity: .ok, check: check, message: "delegated: \(controllers.joined(separator: " "))")
        }
        return DoctorFinding(severity: .note, check: check,
                             message: "cgroup v2 is not delegated to \(probe.userName): resource limits are ignored with a warning",
                             fix: "with systemd: systemctl --user works in a login session; see Delegate=yes in user@.service")
    }

    func ping() -> DoctorFinding {
        let check = "ping"
        guard let text = probe.readText("/proc/sys/net/ipv4/ping_group_range") else {
            return DoctorFinding(severity: .ok, check: check, message: "no ping_group_range here")
        }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { UInt64($0) }
        if f.count == 2, f[0] <= f[1] {
            return DoctorFinding(severity: .ok, check: check, message: "ping_group_range \(f[0]) \(f[1])")
        }
        return DoctorFinding(severity: .note, check: check,
                             message: "net.ipv4.ping_group_range is empty: ping does not work without privileges",
                             fix: "sudo sysctl -w net.ipv4.ping_group_range='0 2147483647'")
    }

    func unprivilegedPorts() -> DoctorFinding {
        let check = "published ports"
        guard let start = probe.readText("/proc/sys/net/ipv4/ip_unprivileged_port_start").flatMap({ Int($0.trimmed) }) else {
            return DoctorFinding(severity: .ok, check: check, message: "no limit known")
        }
        if start <= 80 { return DoctorFinding(severity: .ok, check: check, message: "host ports from \(start) up") }
        return DoctorFinding(severity: .note, check: check, message: "-p with a host port below \(start) will be refused",
                             fix: "sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80")
    }
}

extension StringProtocol {
    var trimmed: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
