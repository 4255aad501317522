#if canImport(Glibc)
import Glibc
#endif
import CoveModel

/// A map the kernel or newuidmap/newgidmap refused, as one line for the
/// user, with errno kept.
public struct IDMapError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public let errno: Int32
    public init(_ description: String, errno: Int32 = 0) { self.description = description; self.errno = errno }
}

/// Writes a new user namespace's uid and gid maps from the parent, which
/// stays in the caller's namespace: directly for a single map of the
/// caller's own id (after denying setgroups), else through the setuid
/// newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
public enum IDMaps {
    public static func mappings(_ linux: RuntimeSpec.Linux) -> (uid: [RuntimeSpec.IDMapping], gid: [RuntimeSpec.IDMapping]) {
        func ranges(_ file: String, _ id: UInt32) -> [SubordinateRange] {
            guard let text = try? Files.readText(file) else { return [] }
            let user = Environment.userName ?? String(getuid())
            return SubordinateRange.parse(text, user: user, id: id)
        }
        let uids = linux.uidMappings.isEmpty
            ? IDMapPlan.defaultMappings(ownID: getuid(), ranges: ranges("/etc/subuid", getuid()))
            : linux.uidMappings
        let gids = linux.gidMappings.isEmpty
            ? IDMapPlan.defaultMappings(ownID: getgid(), ranges: ranges("/etc/subgid", getuid()))
            : linux.gidMappings
        return (uids, gids)
    }

    public static func write(pid: pid_t, linux: RuntimeSpec.Linux) throws {
        let (uids, gids) = mappings(linux)
        if let why = IDMapPlan.validate(uids, kind: "uid") { throw IDMapError("config.json: linux.uidMappings: \(why)") }
        if let why = IDMapPlan.validate(gids, kind: "gid") { throw IDMapError("config.json: linux.gidMappings: \(why)") }
        let privileged = geteuid() == 0 && !Namespaces.inChildUserNamespace()
        // Both maps through the setuid tools (the common rootless case):
        // newuidmap and newgidmap run at once, each writes its own file.
        // The direct single-id gid map needs setgroups denied first and is
        // written here in order.
        let uidTool = try toolRun(pid: pid, kind: "uid", maps: uids, ownID: getuid(), privileged: privileged)
        let gidTool: Processes.Started?
        do {
            gidTool = try toolRun(pid: pid, kind: "gid", maps: gids, ownID: getgid(), privileged: privileged)
        } catch {
            if let uidTool { _ = try? Processes.finish(uidTool) }
            throw error
        }
        // Both waited for, the uid map's failure first.
        var failure: Error?
        if let uidTool { do { try checkTool(uidTool, kind: "uid", maps: uids) } catch { failure = error } }
        if let gidTool { do { try checkTool(gidTool, kind: "gid", maps: gids) } catch { failure = failure ?? error } }
        if let failure { throw failure }
    }

    /// Writes a direct map now and returns nil, or starts the setuid tool
    /// for the map and returns it, to be checked by `checkTool`.
    private static func toolRun(pid: pid_t, kind: String, maps: [RuntimeSpec.IDMapping], ownID: UInt32,
                                privileged: Bool) throws -> Processes.Started? {
        var direct = false
        if case .direct = IDMapPlan.plan(maps, ownID: ownID) { direct = true }
        if privileged || direct {
            try writeOne(pid: pid, kind: kind, maps: maps, ownID: ownID, privileged: privileged)
            return nil
        }
        let tool = kind == "uid" ? "newuidmap" : "newgidmap"
        guard let path = Environment.findExecutable(tool, path: "/usr/bin:/usr/sbin:/bin:/sbin:/usr/local/bin") else {
            throw IDMapError("\(tool) not found, needed to map \(describe(maps)): install it (apt-get install uidmap)",
                               errno: ENOENT)
        }
        var args = [String(pid)]
        for m in maps { args += [String(m.containerID), String(m.hostID), String(m.size)] }
        return try Processes.start(path, args)
    }

    private static func checkTool(_ started: Processes.Started, kind: String, maps: [RuntimeSpec.IDMapping]) throws {
        let (status, stderr) = try Processes.finish(started)
        if status != .exited(0) {
            let tool = kind == "uid" ? "newuidmap" : "newgidmap"
            let file = kind == "uid" ? "/etc/subuid" : "/etc/subgid"
            let user = Environment.userName ?? String(getuid())
            let said = stderr.split(separator: "\n").last.map { ": " + $0 } ?? ""
            throw IDMapError("\(tool) refused \(kind) map \(describe(maps))\(said); each host range must be the "
                + "caller's own id or lie in \(user)'s \(file) entry (an admin adds one with "
                + "`usermod --add-sub\(kind)s 100000-165535 \(user)`)", errno: EPERM)
        }
    }

    public static func text(_ maps: [RuntimeSpec.IDMapping]) -> String {
        maps.map { "\($0.containerID) \($0.hostID) \($0.size)\n" }.joined()
    }

    /// A direct map (or any map, for a privileged writer) written by us.
    private static func writeOne(pid: pid_t, kind: String, maps: [RuntimeSpec.IDMapping], ownID: UInt32,
                                 privileged: Bool) throws {
        var direct = false
        if case .direct = IDMapPlan.plan(maps, ownID: ownID) { direct = true }
        if direct, !privileged, kind == "gid" {
            // An unprivileged writer may map its own gid only once
            // setgroups(2) is denied in the namespace.
            try Files.writeExisting("/proc/\(pid)/setgroups", "deny")
        }
        do { try Files.writeExisting("/proc/\(pid)/\(kind)_map", text(maps)) } catch let e as SyscallError {
            throw IDMapError("write \(kind) map \(describe(maps)): \(e.reason)", errno: e.errno)
        }
    }

    public static func describe(_ maps: [RuntimeSpec.IDMapping]) -> String {
        maps.map { "\($0.containerID):\($0.hostID):\($0.size)" }.joined(separator: ",")
    }
}
