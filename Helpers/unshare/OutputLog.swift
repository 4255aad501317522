#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveLinux
import CoveModel

/// The container's stdout and stderr as docker's json-file log: one JSON
/// object per line, `{"log":"text\n","stream":"stdout","time":"RFC 3339"}`.
/// A line longer than the buffer is cut into several records, as docker
/// does; the file is rotated to FILE.1 when it passes `maxSize` (0: never).
struct OutputLog {
    let path: String
    let maxSize: Int64
    var fd: Int32 = -1
    var size: Int64 = 0

    init(path: String, maxSize: Int64) throws {
        self.path = path
        self.maxSize = maxSize
        try reopen()
    }

    mutating func reopen() throws {
        if fd >= 0 { close(fd) }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("open the container log \(path)") }
        var st = stat()
        size = fstat(fd, &st) == 0 ? Int64(st.st_size) : 0
    }

    mutating func write(_ bytes: ArraySlice<UInt8>, stream: String) {
        let doc = JSON.object([("log", .string(String(decoding: bytes, as: UTF8.self))), ("stream", .string(stream)),
                               ("time", .string(Clock.rfc3339Now()))])
        let line = Array((doc.serialized() + "\n").utf8)
        if maxSize > 0 && size > 0 && size + Int64(line.count) > maxSize {
            rename(path, path + ".1")
            try? reopen()
        }
        if (try? Files.writeAll(fd: fd, line, what: path)) != nil { size += Int64(line.count) }
    }

    /// Reads the container's stdout and stderr pipes until both close and
    /// `initPid` has been reaped (reaping other children meanwhile, as a
    /// subreaper must). Returns init's status.
    mutating func pump(stdout: Int32, stderr: Int32, initPid: pid_t) -> ExitStatus {
        Signals.block([SIGCHLD])
        let sigfd = [SIGCHLD].withUnsafeBufferPointer { cove_signalfd($0.baseAddress, 1) }
        var pending: [Int32: [UInt8]] = [stdout: [], stderr: []]
        var open: [Int32] = [stdout, stderr]
        var status: ExitStatus?
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        func drainReaped() {
            while let (p, s) = Processes.reapAny() { if p == initPid { status = s } }
        }
        drainReaped()
        while !open.isEmpty || status == nil {
            var pfds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if sigfd >= 0 && status == nil { pfds.append(pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)) }
            if pfds.isEmpty { status = Monitor.reap(initPid); break }
            if poll(&pfds, nfds_t(pfds.count), -1) < 0 { if errno == EINTR { continue }; break }
            for p in pfds where p.revents != 0 {
                if p.fd == sigfd {
                    _ = cove_read_signalfd(sigfd)
                    drainReaped()
                    continue
                }
                let n = buf.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                let stream = p.fd == stdout ? "stdout" : "stderr"
                if n <= 0 {
                    if let rest = pending[p.fd], !rest.isEmpty { write(rest[...], stream: stream) }
                    pending[p.fd] = []
                    close(p.fd)
                    open.removeAll { $0 == p.fd }
                    continue
                }
                var data = (pending[p.fd] ?? []) + buf[0..<n]
                while let nl = data.firstIndex(of: UInt8(ascii: "\n")) {
                    write(data[...nl], stream: stream)
                    data.removeSubrange(...nl)
                }
                if data.count >= 16 << 10 { write(data[...], stream: stream); data = [] }
                pending[p.fd] = data
            }
        }
        if sigfd >= 0 { close(sigfd) }
        return status ?? .exited(255)
    }
}
