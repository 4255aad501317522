#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// `--monitor`: a process that outlives the command, stays the container's
/// parent (a subreaper, in its own session), reaps init and records how it
/// ended in `<root>/<id>/exit.json` ({"exitCode": N, "exitedAt": time}).
/// cove's front has no daemon: this is what holds a detached container.
enum Monitor {
    static func launch(_ r: Launcher.Request, store: StateStore) throws -> Int32 {
        var ready: [Int32] = [0, 0]
        try check("pipe", cove_pipe_cloexec(&ready))
        let monitor = try Processes.fork()
        if monitor != 0 {
            // The command: wait for the monitor's word that the container is up.
            close(ready[1])
            let said = (try? Files.readAll(fd: ready[0], limit: 64, what: "monitor")) ?? []
            close(ready[0])
            if said == Array("ok".utf8) { return 0 }
            // The monitor reported its error itself, on the shared stderr.
            _ = try? Processes.wait(monitor)
            return 1
        }
        close(ready[0])
        _ = setsid()
        Processes.setName("cove:monitor")
        var savedStderr: Int32 = -1
        do {
            try Processes.becomeSubreaper()
            // The container's stdout and stderr: pipes this monitor reads
            // into the log, which outlives any terminal the caller had.
            var log: OutputLog?
            var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
            if let path = r.outputLog {
                // Errors before the container runs still go to the caller.
                savedStderr = fcntl(2, F_DUPFD_CLOEXEC, 3)
                log = try OutputLog(path: path, maxSize: r.outputLogMax)
                try check("pipe", cove_pipe_cloexec(&outPipe))
                try check("pipe", cove_pipe_cloexec(&errPipe))
                let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
                if null >= 0 { dup2(null, 0); close(null) }
                dup2(outPipe[1], 1); dup2(errPipe[1], 2)
                close(outPipe[1]); close(errPipe[1])
            }
            var initPid: pid_t = 0
            _ = try Launcher.launch(r, store: store, onStarted: { pid in
                initPid = pid
                _ = "ok".withCString { write(ready[1], $0, 2) }
                close(ready[1])
            })
            // Let go of the caller's terminal and pipes: the container has
            // its own copies.
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            if null >= 0 { dup2(null, 0); dup2(null, 1); dup2(null, 2) }
            if savedStderr >= 0 { close(savedStderr); savedStderr = -1 }
            let status: ExitStatus
            if var log {
                status = log.pump(stdout: outPipe[0], stderr: errPipe[0], initPid: initPid)
            } else {
                status = reap(initPid)
            }
            let exitedAt = Clock.rfc3339Now()
            // A fuse-overlayfs root's server ends with the container (see FuseRoot).
            FuseRoot.stop(id: r.id, store: store)
            // Helpers the container had (cove-net) end with it: reap them
            // here rather than leave them to whatever init this machine has.
            // Before exit.json: `cove stop`, `rm -f` and `wait` return once
            // the exit is recorded, and by then nothing of the container may
            // be left running (a fast `rm` otherwise beats cove-net's exit).
            Processes.reapRemaining(seconds: 2)
            let doc = JSON.object([("exitCode", .int(status.code)), ("exitedAt", .string(exitedAt))])
            if Files.isDirectory(store.directory(r.id)) {
                try? Files.writeAtomically(store.directory(r.id) + "/exit.json", doc.serializedBytes(),
                                           mode: 0o600, durable: false)
            }
            if let path = r.exitCommand.first {
                // Its own process, in our session: it outlives us (it may
                // delete this very container's state).
                if (try? Processes.fork()) == 0 {
                    _ = Processes.exec(path, r.exitCommand, Spawn.currentEnvironment)
                    _exit(127)
                }
            }
            _exit(0)
        } catch {
            if savedStderr >= 0 { dup2(savedStderr, 2) }
            RuntimeLog.logger.error("\(error)")
            _exit(1)
        }
    }

    /// Waits for init, reaping whatever else is reparented here meanwhile.
    static func reap(_ pid: pid_t) -> ExitStatus {
        while let (p, status) = Processes.waitAny() {
            if p == pid { return status }
        }
        return .exited(255)
    }
}
