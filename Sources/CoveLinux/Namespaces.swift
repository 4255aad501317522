#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveModel

extension NamespaceKind {
    public var cloneFlag: Int32 {
        switch self {
        case .pid: return COVE_CLONE_NEWPID
        case .network: return COVE_CLONE_NEWNET
        case .mount: return COVE_CLONE_NEWNS
        case .ipc: return COVE_CLONE_NEWIPC
        case .uts: return COVE_CLONE_NEWUTS
        case .user: return COVE_CLONE_NEWUSER
        case .cgroup: return COVE_CLONE_NEWCGROUP
        case .time: return COVE_CLONE_NEWTIME
        }
    }

    /// The name under /proc/PID/ns/.
    public var procName: String {
        switch self {
        case .network: return "net"
        case .mount: return "mnt"
        default: return rawValue
        }
    }
}

public enum Namespaces {
    public static func unshare(_ flags: Int32) throws {
        try check("unshare namespaces", cove_unshare(flags))
    }

    /// Joins the namespace at `path` (an nsfs file, /proc/PID/ns/X).
    public static func join(_ kind: NamespaceKind, path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open \(kind.rawValue) namespace \(path)") }
        defer { close(fd) }
        try check("join \(kind.rawValue) namespace \(path)", cove_setns(fd, kind.cloneFlag))
    }

    /// An fd of the caller's own namespace of `kind` (/proc/self/ns), to
    /// hand to a process that joins it.
    public static func openOwn(_ kind: NamespaceKind) throws -> Int32 {
        let path = "/proc/self/ns/" + kind.procName
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open \(path)") }
        return fd
    }

    public static func join(_ kind: NamespaceKind, fd: Int32, describe: @autoclosure () -> String) throws {
        try check(describe(), cove_setns(fd, kind.cloneFlag))
    }

    public static func setHostname(_ name: String) throws {
        try check("set hostname \(name)", cove_sethostname(name, name.utf8.count))
    }
    public static func setDomainname(_ name: String) throws {
        try check("set domainname \(name)", cove_setdomainname(name, name.utf8.count))
    }

    /// True when this process is in a user namespace other than the initial
    /// one (as under `podman unshare`): the initial one maps all 2^32 ids.
    public static func inChildUserNamespace() -> Bool {
        guard let text = try? Files.readText("/proc/self/uid_map") else { return false }
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        return !(f.count == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
    }
}

public enum Identity {
    public static func setGroups(_ gids: [UInt32]) throws {
        _ = try gids.withUnsafeBufferPointer { b in
            try check("setgroups", cove_setgroups(b.count, b.baseAddress))
        }
    }
    public static func setIDs(uid: UInt32, gid: UInt32) throws {
        try check("setgid \(gid)", cove_setresgid(gid, gid, gid))
        try check("setuid \(uid)", cove_setresuid(uid, uid, uid))
    }
    public static func setNoNewPrivileges() throws { try check("set no_new_privs", cove_set_no_new_privs()) }
}

extension Namespaces {
    /// Where the user namespace that owns the namespace at `path` can be
    /// joined: `.caller` when it is this process's own, else a
    /// /proc/PID/ns/user of a process in it (one of this user's; /proc
    /// shows no other's), or nil when no such process is left.
    public enum Owner: Equatable { case caller, path(String), unreachable }

    public static func owner(of path: String) throws -> Owner {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw SyscallError("open the namespace \(path)") }
        defer { close(fd) }
        let owner = cove_ns_owner(fd)
        if owner < 0 { throw SyscallError("find the user namespace owning \(path) (NS_GET_USERNS)") }
        defer { close(owner) }
        var want = Glibc.stat()
        if fstat(owner, &want) != 0 { throw SyscallError("stat the owner of \(path)") }
        func same(_ p: String) -> Bool {
            let f = open(p, O_RDONLY | O_CLOEXEC)
            guard f >= 0 else { return false }
            defer { close(f) }
            var s = Glibc.stat()
            return fstat(f, &s) == 0 && s.st_ino == want.st_ino && s.st_dev == want.st_dev
        }
        if same("/proc/self/ns/user") { return .caller }
        guard let dir = opendir("/proc") else { return .unreachable }
        defer { closedir(dir) }
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard !name.isEmpty, name.allSatisfy(\.isNumber) else { continue }
            if same("/proc/\(name)/ns/user") { return .path("/proc/\(name)/ns/user") }
        }
        return .unreachable
    }
}
