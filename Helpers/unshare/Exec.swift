#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// `exec`: a new process in a running container. The runtime forks a stage
/// that joins every namespace of the container's init (user first, mount
/// last), which forks the process into the container's PID namespace; it is
/// confined as init was (capabilities, seccomp, no_new_privs, user).
enum Exec {
    static func run(_ a: Arguments, store: StateStore) throws -> Int32 {
        let id = try a.operand(0, "a container id")
        let state = try store.load(id)
        guard state.status == .running else {
            throw RuntimeError("cannot exec in container \(id): it is \(state.status.rawValue), not running", errno: EINVAL)
        }
        let spec = try Launcher.readSpec(bundle: state.bundle)
        var process = try buildProcess(a, base: spec.process)
        process.relayedTerminalSize(consoleSocket: a.values["console-socket"])
        let seccomp = try Launcher.compileSeccomp(spec, store: store, configPath: state.bundle + "/config.json")
        let detach = a.flags.contains("detach")
        var preserve: Int32 = 0
        if let p = a.values["preserve-fds"] {
            guard let n = Int32(p), n >= 0 else { throw Arguments.UsageError(description: "--preserve-fds \(p) is not a count") }
            preserve = n
        }
        if process.terminal && a.values["console-socket"] == nil && detach {
            throw RuntimeError("a terminal for a detached exec needs --console-socket", errno: EINVAL)
        }
        var consoleSocket: Int32 = -1
        if process.terminal, let path = a.values["console-socket"] {
            consoleSocket = try Terminal.connectConsoleSocket(Files.absolute(path))
        }
        if !detach { try Processes.becomeSubreaper() }
        let (parentEnd, childEnd) = try SyncChannel.pair()
        let stage = try Processes.fork()
        if stage == 0 {
            parentEnd.close()
            joinAndFork(initPid: state.pid, process: process, seccomp: seccomp, preserveFDs: preserve,
                        consoleSocket: consoleSocket, channel: childEnd)
        }
        childEnd.close()
        if consoleSocket >= 0 { close(consoleSocket) }
        defer { parentEnd.close() }
        var child: pid_t = 0
        var master: Int32 = -1
        defer { if master >= 0 { close(master) } }
        var ready = false
        var stageAlive = true
        defer { if stageAlive { kill(stage, SIGKILL); _ = try? Processes.wait(stage) } }
        while !ready || child == 0 {
            guard let (m, fd) = try parentEnd.receiveWithFD() else {
                throw RuntimeError("exec in \(id) ended without a report", errno: EPIPE)
            }
            switch m {
            case let .initPid(p):
                child = p
                _ = try? Processes.wait(stage)
                stageAlive = false
            case .terminal: master = fd
            case .ready: ready = true
            case .failure, .execFailure:
                if child > 0 { _ = try? Processes.wait(child) }
                throw RuntimeError(reported: m) ?? RuntimeError("exec failed")
            default: throw RuntimeError("unexpected message from exec setup", errno: EBADMSG)
            }
        }
        if let pidFile = a.values["pid-file"] {
            try Files.writeAtomically(Files.absolute(pidFile), Array("\(child)".utf8), durable: false)
        }
        // The channel closes when the process execs; a failure comes first.
        if let m = try parentEnd.receive(), let failure = RuntimeError(reported: m) {
            _ = try? Processes.wait(child)
            throw failure
        }
        if detach { return 0 }
        let status = master >= 0 ? TerminalRelay(master: master).run(until: child) : Launcher.waitForeground(child)
        return status.code
    }

    /// `--process FILE`, else the container's own process with the command
    /// line's changes (runc's rules): args, env added, cwd, user, caps
    /// added to every set, tty, no_new_privs.
    static func buildProcess(_ a: Arguments, base: RuntimeSpec.Process?) throws -> RuntimeSpec.Process {
        if let file = a.values["process"] {
            let text: String
            do { text = try Files.readText(Files.absolute(file)) } catch let e as SyscallError {
                throw RuntimeError("cannot read process file \(file): \(e.reason)", errno: e.errno)
            }
            do {
                var p = try RuntimeSpec.Process(json: try JSON.parse(text))
                if a.flags.contains("tty") { p.terminal = true }
                guard !p.args.isEmpty else { throw SpecError("process.args", "is empty") }
                return p
            } catch let e as SpecError {
                throw RuntimeError("\(file): \(e.field): \(e.reason)", errno: EINVAL)
            } catch let e as JSONError {
                throw RuntimeError("\(file): \(e)", errno: EINVAL)
            }
        }
        guard var p = base else { throw RuntimeError("the container's config has no process to start from", errno: EINVAL) }
        p.args = Array(a.operands.dropFirst())
        guard !p.args.isEmpty else { throw Arguments.UsageError(description: "exec needs a command or --process FILE") }
        for kv in a.lists["env"] ?? [] {
            let key = kv.split(separator: "=", maxSplits: 1).first.map(String.init) ?? kv
            p.env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            p.env.append(kv)
        }
        if let cwd = a.values["cwd"] {
            guard cwd.hasPrefix("/") else { throw RuntimeError("--cwd \(cwd) is not an absolute path", errno: EINVAL) }
            p.cwd = cwd
        }
        if let user = a.values["user"] {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), parts.count == 1 || UInt32(parts[1]) != nil else {
                throw RuntimeError("--user \(user): use numeric UID[:GID]", errno: EINVAL)
            }
            p.user.uid = uid
            p.user.gid = parts.count == 2 ? UInt32(parts[1])! : p.user.gid
        }
        if let caps = a.lists["cap"], !caps.isEmpty {
            var c = p.capabilities ?? RuntimeSpec.Capabilities(bounding: [], effective: [], permitted: [],
                                                                inheritable: [], ambient: [])
            for cap in caps {
                let name = cap.uppercased().hasPrefix("CAP_") ? cap.uppercased() : "CAP_" + cap.uppercased()
                for kp in [\RuntimeSpec.Capabilities.bounding, \.effective, \.permitted, \.inheritable, \.ambient]
                where !c[keyPath: kp].contains(name) {
                    c[keyPath: kp].append(name)
                }
            }
            p.capabilities = c
        }
        p.terminal = a.flags.contains("tty")
        if a.flags.contains("no-new-privs") { p.noNewPrivileges = true }
        return p
    }

    /// The stage in the host's namespaces that enters the container's.
    static func joinAndFork(initPid: pid_t, process: RuntimeSpec.Process, seccomp: SeccompFilter?,
                            preserveFDs: Int32, consoleSocket: Int32, channel: SyncChannel) -> Never {
        Processes.setName("cove:exec")
        Processes.dieWithParent()
        Files.closeDescriptors(from: 3 + preserveFDs, except: [channel.fd, RuntimeLog.fd, consoleSocket])
        do {
            // Open every namespace first: after joining the mount namespace
            // the host's /proc is out of reach.
            let order: [NamespaceKind] = [.user, .ipc, .uts, .network, .pid, .cgroup, .time, .mount]
            var fds: [(NamespaceKind, Int32)] = []
            defer { for (_, fd) in fds { close(fd) } }
            for kind in order {
                let theirs = "/proc/\(initPid)/ns/\(kind.procName)"
                guard let target = Files.readLink(theirs) else { continue }
                if target == Files.readLink("/proc/self/ns/\(kind.procName)") { continue }
                let fd = open(theirs, O_RDONLY | O_CLOEXEC)
                if fd < 0 { throw SyscallError("open \(theirs)") }
                fds.append((kind, fd))
            }
            for (kind, fd) in fds {
                try Namespaces.join(kind, fd: fd, describe: "join the container's \(kind.rawValue) namespace")
                if kind == .user { try? Identity.setIDs(uid: 0, gid: 0) }
            }
            let child = try Processes.fork()
            if child == 0 { runProcess(process, seccomp: seccomp, preserveFDs: preserveFDs,
                                       consoleSocket: consoleSocket, channel: channel) }
            try channel.send(.initPid(child))
            _exit(0)
        } catch {
            SetupStage.report(error, channel: channel)
            _exit(1)
        }
    }

    static func runProcess(_ process: RuntimeSpec.Process, seccomp: SeccompFilter?, preserveFDs: Int32,
                           consoleSocket: Int32, channel: SyncChannel) -> Never {
        do {
            for l in process.rlimits { try Limits.set(l.type, soft: l.soft, hard: l.hard) }
            if process.terminal { try ContainerInit.setUpTerminal(process, consoleSocket: consoleSocket, channel: channel) }
            let exe = try ContainerInit.resolveExecutable(process)
            umask(mode_t(process.user.umask ?? 0o022))
            try channel.send(.ready)
            try ContainerInit.confineAndExec(process, exe: exe, seccomp: seccomp, preserveFDs: preserveFDs)
        } catch {
            SetupStage.report(error, channel: channel)
            _exit(ContainerInit.exitCode(for: error))
        }
    }
}
