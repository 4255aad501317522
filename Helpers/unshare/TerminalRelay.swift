#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux

/// A foreground `run` with process.terminal and no console socket: copy
/// between our stdin/stdout and the container's pty master in one poll
/// loop, in raw mode, passing on window size changes and signals, until
/// init exits.
struct TerminalRelay {
    let master: Int32

    func run(until pid: pid_t) -> ExitStatus {
        let forwarded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT]
        let watched = [SIGCHLD, SIGWINCH] + forwarded
        Signals.block(watched)
        defer { Signals.unblockAll() }
        let sigfd = watched.withUnsafeBufferPointer { cove_signalfd($0.baseAddress, Int32($0.count)) }
        defer { if sigfd >= 0 { close(sigfd) } }
        let restore = isatty(0) == 1 ? Terminal.makeRaw(0) : nil
        defer { restore?() }
        copyWindowSize()
        var stdinOpen = true
        var buf = [UInt8](repeating: 0, count: 32768)
        var status: ExitStatus?
        while status == nil {
            // Reap first: a SIGCHLD before the block is not queued again.
            while let (p, s) = Processes.reapAny() { if p == pid { status = s } }
            if status != nil { break }
            var fds = [pollfd(fd: master, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, nfds_t(fds.count), -1) < 0 { if errno == EINTR { continue }; break }
            if fds[0].revents != 0 {
                let n = read(master, &buf, buf.count)
                if n > 0 { writeAll(1, buf, n) } else if n < 0 && errno != EINTR && errno != EAGAIN {
                    // EIO: every slave is closed; the exit follows.
                    status = (try? Processes.wait(pid)) ?? .exited(1)
                }
            }
            if fds[1].revents != 0 {
                let sig = cove_read_signalfd(sigfd)
                if sig == SIGWINCH { copyWindowSize() } else if sig > 0 && sig != SIGCHLD { kill(pid, sig) }
            }
            if fds[2].revents != 0 {
                let n = read(0, &buf, buf.count)
                if n > 0 { writeAll(master, buf, n) } else if n == 0 { stdinOpen = false }
            }
        }
        drain(&buf)
        return status ?? .exited(1)
    }

    /// What the process wrote just before it exited.
    func drain(_ buf: inout [UInt8]) {
        let flags = fcntl(master, F_GETFL)
        _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { break }
            writeAll(1, buf, n)
        }
    }

    func copyWindowSize() {
        if let s = Terminal.size(of: 0) { Terminal.resize(master, rows: s.rows, cols: s.cols) }
    }

    func writeAll(_ fd: Int32, _ buf: [UInt8], _ n: Int) {
        var off = 0
        while off < n {
            let w = buf.withUnsafeBytes { write(fd, $0.baseAddress! + off, n - off) }
            if w < 0 { if errno == EINTR { continue }; return }
            off += w
        }
    }
}
