#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// A root of type `fuse-overlayfs`: served by /usr/bin/fuse-overlayfs.
///
/// The design, and why: the mount must live in the container's own user
/// and mount namespaces (so it vanishes with them), while the process that
/// serves it must stay outside the container's PID namespace (so `ps`
/// inside does not show it and the container cannot signal it). Init is
/// already in all of its namespaces when it builds the root, so it cannot
/// start the server itself without putting it in its PID namespace.
/// Instead init makes its rootfs bind mount shared and asks its parent on
/// the sync channel (`.mountRoot`); the parent, still in the host's
/// namespaces, forks a child that joins init's user and mount namespaces
/// by /proc/PID/ns (setns keeps the host PID namespace), unshares a mount
/// namespace of its own (a copy: the shared bind is a peer of init's) and
/// execs fuse-overlayfs in the foreground on the rootfs path. The mount
/// propagates to init's namespace; its own namespace keeps the server out
/// of reach of init's pivot_root, which would otherwise move the server's
/// root onto the very mount it serves (tried: a deadlock in fuse_lookup).
/// The parent waits, bounded, until the mount shows in init's mountinfo,
/// records the server's pid and start time in the state directory
/// (`fuse.json`) and answers `.rootMounted`; init makes the mounts private
/// again and goes on with the other mounts and pivot_root. Nothing is
/// mounted in the host's namespace. The server's namespace dies with the
/// server: the foreground `run` and the monitor stop it once init is
/// reaped, `delete` stops it otherwise (an OCI `create` whose caller owns
/// the processes), so no mount and no process stay behind.
enum FuseRoot {
    static let program = "/usr/bin/fuse-overlayfs"

    /// Runs fuse-overlayfs on `rootfs` inside `initPid`'s user and mount
    /// namespaces; returns once the mount is there.
    static func mount(_ m: RuntimeSpec.Mount, rootfs: String, initPid: pid_t, ctx: LaunchContext,
                      store: StateStore) throws {
        guard Files.exists(program) else {
            throw RuntimeError("\(program) not found: install the fuse-overlayfs package or use another storage driver",
                               errno: ENOENT)
        }
        let target = (try? Files.realPath(rootfs)) ?? rootfs
        let logPath = store.directory(ctx.id) + "/fuse.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if log < 0 { throw SyscallError("create \(logPath)") }
        defer { close(log) }
        let options = m.options.filter { !$0.isEmpty }.joined(separator: ",")
        let pid = try Processes.fork()
        if pid == 0 {
            Processes.setName("cove:fuse")
            let null = open("/dev/null", O_RDWR)
            if null >= 0 { dup2(null, 0); dup2(null, 1); close(null) }
            dup2(log, 2)
            Files.closeDescriptors(from: 3, except: [])
            Signals.unblockAll()
            do {
                // The user namespace first: it gives the capabilities that
                // joining its mount namespace needs.
                if ctx.has(.user) { try Namespaces.join(.user, path: "/proc/\(initPid)/ns/user") }
                try Namespaces.join(.mount, path: "/proc/\(initPid)/ns/mnt")
                // A mount namespace of its own, a copy of init's: init's
                // pivot_root must not move this process's root onto the
                // fuse mount it serves (fuse-overlayfs resolves
                // /proc/self/fd paths: a lookup through its own mount
                // deadlocks). The mount reaches init through a shared bind.
                try Namespaces.unshare(COVE_CLONE_NEWNS)
                // Root of the namespace, as podman runs it: exec keeps the
                // capabilities the mount needs only for uid 0 (with keep-id
                // the caller's own uid is not 0 inside).
                if ctx.has(.user) { try Identity.setIDs(uid: 0, gid: 0) }
                // setns into a mount namespace moves the cwd to its root:
                // back to the bundle, where relative lowerdirs resolve.
                if chdir(ctx.bundle) != 0 { throw SyscallError("chdir to the bundle \(ctx.bundle)") }
            } catch {
                let line = "cove-unshare: \(error)\n"
                _ = line.withCString { write(2, $0, strlen($0)) }
                _exit(125)
            }
            _ = Processes.exec(program, [program, "-f", "-o", options, target], ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"])
            _exit(127)
        }
        var mounted = false
        // Bounded: a fuse-overlayfs that neither mounts nor fails in 20 s is killed.
        let deadline = Clock.monotonicMilliseconds() + 20_000
        while Clock.monotonicMilliseconds() < deadline {
            if isMounted(target, seenBy: initPid) { mounted = true; break }
            if let status = try Processes.wait(pid, seconds: 0.002) {
                let why = ((try? Files.readText(logPath)) ?? "").split(separator: "\n").last.map(String.init)
                throw RuntimeError("fuse-overlayfs could not mount the root \(target) (\(status)): \(why ?? "no message")",
                                   errno: EIO)
            }
        }
        guard mounted else {
            kill(pid, SIGKILL)
            _ = try? Processes.wait(pid)
            throw RuntimeError("fuse-overlayfs did not mount the root \(target) within 20 s", errno: ETIMEDOUT)
        }
        let start = Processes.stat(pid)?.startTime ?? 0
        let doc = JSON.object([("pid", .int(pid)), ("startTime", .int(start))])
        try Files.writeAtomically(store.directory(ctx.id) + "/fuse.json", doc.serializedBytes(), mode: 0o600,
                                  durable: false)
    }

    /// A fuse mount on `target` in the mount namespace `pid` is in.
    static func isMounted(_ target: String, seenBy pid: pid_t) -> Bool {
        guard let text = try? Files.readText("/proc/\(pid)/mountinfo") else { return false }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count > 4, let dash = f.firstIndex(of: "-"), dash + 1 < f.count else { continue }
            if unescape(String(f[4])) == target && f[dash + 1].hasPrefix("fuse") { return true }
        }
        return false
    }

    /// mountinfo writes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == UInt8(ascii: "\\"), i + 4 <= b.count,
               let v = UInt8(String(decoding: b[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Ends the container's fuse-overlayfs, if it has one: SIGTERM, then
    /// SIGKILL after 5 s. Reaps it when it is our child.
    static func stop(id: String, store: StateStore) {
        let path = store.directory(id) + "/fuse.json"
        guard let text = try? Files.readText(path), let j = try? JSON.parse(text),
              let p = j["pid"]?.int64Value, let start = j["startTime"]?.uint64Value else { return }
        let pid = pid_t(p)
        defer { unlink(path) }
        guard Processes.isAlive(pid, startTime: start) else {
            _ = waitpid(pid, nil, WNOHANG)
            return
        }
        kill(pid, SIGTERM)
        let deadline = Clock.monotonicMilliseconds() + 5_000
        while Clock.monotonicMilliseconds() < deadline {
            _ = waitpid(pid, nil, WNOHANG)
            if !Processes.isAlive(pid, startTime: start) { return }
            usleep(2_000)
        }
        kill(pid, SIGKILL)
        let hard = Clock.monotonicMilliseconds() + 2_000
        while Clock.monotonicMilliseconds() < hard && Processes.isAlive(pid, startTime: start) {
            _ = waitpid(pid, nil, WNOHANG)
            usleep(2_000)
        }
    }
}
