#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// `--oci-hook --pasta PATH`: the container's network from pasta (passt)
/// instead of libslirp, run as podman runs it: `--config-net` against the
/// container's network namespace (and the user namespace owning it),
/// every published port as `-t`/`-u`, no automatic forwards, DNS
/// forwarded from 169.254.1.1 to the host's resolver, the gateway not
/// mapped to the host. pasta daemonizes once the namespace is configured,
/// so its first process exiting 0 means the network is up. A watcher stays
/// behind: pasta's own check that its namespace is gone watches the
/// filesystem, which /proc/PID/ns does not notify, so the watcher ends
/// pasta when the container's process exits.
enum PastaHook {
    static func run(pasta: String, _ args: NetArguments) throws -> Int32 {
        guard let pid = args.pid, let bundle = args.bundle else {
            throw NetArguments.UsageError(description: "--pasta: the state on stdin names no pid or bundle")
        }
        let pidFile = bundle + "/pasta.pid"
        let logFile = bundle + "/pasta.log"
        unlink(pidFile)
        var argv = [pasta, "--config-net", "--quiet", "--dns-forward", "169.254.1.1", "-T", "none", "-U", "none"]
        if !args.pastaOptions.contains("--map-gw") { argv.append("--no-map-gw") }
        argv += args.pastaOptions.filter { $0 != "--map-gw" }
        var tcp = false, udp = false
        for f in args.publish {
            let addr: String
            if case .v4(0) = f.hostAddress { addr = "" } else { addr = "\(f.hostAddress)/" }
            argv += [f.udp ? "-u" : "-t", "\(addr)\(f.hostPort):\(f.containerPort)"]
            if f.udp { udp = true } else { tcp = true }
        }
        if !tcp && !args.pastaOptions.contains(where: { $0 == "-t" || $0.hasPrefix("--tcp-ports") }) { argv += ["-t", "none"] }
        if !udp && !args.pastaOptions.contains(where: { $0 == "-u" || $0.hasPrefix("--udp-ports") }) { argv += ["-u", "none"] }
        argv += ["--userns", args.userns, "--netns", args.netns, "-P", pidFile]

        // pasta's messages go to a file: its daemon may keep whatever
        // stderr it was given, and the runtime reads ours until it closes.
        let log = open(logFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard log >= 0, null >= 0 else {
            let e = errno
            if log >= 0 { close(log) }
            if null >= 0 { close(null) }
            throw SyscallError("open \(logFile)", errno: e)
        }
        var options = Spawn.Options()
        options.fds = [(0, null), (1, null), (2, log)]
        let first: pid_t
        do { first = try Spawn.spawn(pasta, argv, env: Spawn.currentEnvironment, options: options) } catch {
            close(log); close(null)
            throw error
        }
        close(log); close(null)
        let status = try Processes.wait(first)
        guard status == .exited(0) else {
            let said = ((try? Files.readText(logFile)) ?? "").split(separator: "\n")
                .filter { !$0.hasPrefix("Failed to send") }.suffix(3).joined(separator: "; ")
            NetLog.error("pasta failed (\(status)): \(said.isEmpty ? "no message" : said)")
            return 1
        }
        guard let text = try? Files.readText(pidFile),
              let line = text.split(separator: "\n").first, let server = pid_t(line), server > 0 else {
            NetLog.error("pasta started but wrote no pid to \(pidFile)")
            return 1
        }
        OCIHook.recordServer(bundle: bundle, record: args.record, helper: "pasta", pid: server)
        // The watcher: a session of its own, no stdio of the runtime's.
        let exitFD = try Processes.openPidFD(pid)
        let pastaFD = try Processes.openPidFD(server)
        let watcher = try Processes.fork()
        if watcher != 0 {
            close(exitFD)
            close(pastaFD)
            return 0
        }
        Processes.detachFromCaller()
        Processes.setName("cove-net-pasta")
        var fds = [pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: pastaFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let n = poll(&fds, 2, -1)
            if n < 0 && errno == EINTR { continue }
            if n < 0 || fds[0].revents != 0 {
                Processes.signal(pidFD: pastaFD, SIGTERM)
                _exit(0)
            }
            // pasta ended on its own: nothing left to watch.
            if fds[1].revents != 0 { _exit(0) }
        }
    }
}
