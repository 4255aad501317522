#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux

/// `--init`: cove-unshare bind-mounted into the container as /dev/init and
/// run as its PID 1 (`/dev/init -- COMMAND…`). A static executable, so it
/// runs in any image. It starts the command, passes on every signal it
/// gets, reaps whatever is reparented to it, and exits as the command did.
enum InitProcess {
    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH, SIGCONT, SIGTSTP,
                                     SIGTTIN, SIGTTOU, SIGALRM, SIGPWR, SIGURG, SIGIO, SIGPROF, SIGVTALRM, SIGXCPU]

    static func run(_ argv: [String]) -> Int32 {
        var args = argv
        if args.first == "--" { args.removeFirst() }
        guard let name = args.first else {
            _ = "cove init: no command\n".withCString { write(2, $0, strlen($0)) }
            return 125
        }
        let path = Environment.get("PATH") ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        guard let exe = Environment.findExecutable(name, path: path) else {
            let msg = "cove init: \(name): executable file not found in $PATH\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
            return 127
        }
        let all = [SIGCHLD] + forwarded
        Signals.block(all)
        let child: pid_t
        do { child = try Processes.fork() } catch { return 125 }
        if child == 0 {
            // The command leads its own process group in the foreground, so
            // a terminal's ^C reaches it directly, as without an init. Done
            // with SIGTTOU still blocked (inherited): tcsetpgrp from a
            // background group would otherwise stop us.
            _ = setpgid(0, 0)
            if isatty(0) != 0 { _ = tcsetpgrp(0, getpid()) }
            Signals.unblockAll()
            let e = Processes.exec(exe, args, Spawn.currentEnvironment)
            let msg = "cove init: exec \(exe): \(SyscallError("", errno: e).reason)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
            _exit(e == EACCES || e == ENOEXEC ? 126 : 127)
        }
        while true {
            // Reap everything that has ended; the command's end ends us.
            while let (p, status) = Processes.reapAny() {
                if p == child { return status.code }
            }
            let sig = Signals.wait(all)
            if sig > 0 && sig != SIGCHLD { kill(child, sig) }
        }
    }
}
