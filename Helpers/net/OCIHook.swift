#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// `--oci-hook`: cove-net as the container's createRuntime hook. The
/// runtime passes the container's state (runtime-spec's state JSON) on
/// stdin and waits for the hook to exit; cove-net forks, the child sets up
/// the network and reports on a pipe, and the parent exits 0 only once the
/// tap is up and every forward listens: the container's process starts
/// with its network ready. The child stays behind, in a session of its own,
/// until the container's process exits.
enum OCIHook {
    /// --netns, --userns, --pid and the bundle from the state on stdin.
    static func readState(_ args: inout NetArguments) throws {
        let state = try JSON.parse(try Files.readAll(fd: 0, limit: 1 << 20, what: "the container state on stdin"))
        guard let pid = state["pid"]?.int64Value, pid > 0 else {
            throw NetArguments.UsageError(description: "--oci-hook: the state on stdin has no pid")
        }
        args.pid = Int32(pid)
        args.netns = "/proc/\(pid)/ns/net"
        args.userns = "/proc/\(pid)/ns/user"
        args.bundle = state["bundle"]?.stringValue
    }

    /// `record` (--record), else `<bundle>/network.pid`: the process
    /// serving the container's network, {"helper": NAME, "pid": N,
    /// "startTime": T}. The front reads it to tell a container whose
    /// network died (`cove inspect`'s State.Error). `leftovers`: a
    /// directory of the helper's own that its end removes, and the front
    /// removes when that end never came (kill -9).
    static func recordServer(bundle: String?, record: String?, helper: String, pid: pid_t, leftovers: String? = nil) {
        guard let path = record ?? bundle.map({ $0 + "/network.pid" }) else { return }
        if record != nil, let dir = Files.parent(path), !dir.isEmpty { try? Files.makeDirectories(dir, mode: 0o700) }
        var fields: [(String, JSON)] = [("helper", .string(helper)), ("pid", .int(pid)),
                                        ("startTime", .int(Processes.stat(pid)?.startTime ?? 0))]
        if let leftovers { fields.append(("leftovers", .string(leftovers))) }
        let doc = JSON.object(fields)
        do {
            try Files.writeAtomically(path, doc.serializedBytes(), mode: 0o600, durable: false)
        } catch {
            NetLog.error("cannot record the network helper's pid in \(path): \(error)")
        }
    }

    /// Fills --netns, --userns and --pid from the state; returns the fd the
    /// serving child writes its ready byte to (in the child), or exits (in
    /// the parent).
    static func detach(_ args: inout NetArguments) throws {
        try readState(&args)
        var ready: [Int32] = [0, 0]
        try check("pipe", cove_pipe_cloexec(&ready))
        let child = try Processes.fork()
        if child != 0 {
            close(ready[1])
            let said = (try? Files.readAll(fd: ready[0], limit: 16, what: "cove-net")) ?? []
            // The child's error, if any, went to our shared stderr already.
            exit(said.isEmpty ? 1 : 0)
        }
        close(ready[0])
        _ = setsid()
        // The runtime reads our stdout and stderr until they close: the
        // serving process must not hold them.
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        if null >= 0 { dup2(null, 0); dup2(null, 1) }
        args.readyFD = ready[1]
        args.stderrAfterReady = null
    }
}
