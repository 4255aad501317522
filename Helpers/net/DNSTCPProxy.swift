#if canImport(Glibc)
import Glibc
#endif
import CSlirp
import CoveLinux

/// TCP queries to 10.0.2.3:53 (a truncated answer's retry, or a resolver
/// set to use TCP) go to the same upstream as the UDP ones. libslirp would
/// send them to port 53 of resolv.conf's first nameserver and cannot be
/// told otherwise, and it never hands a connection to its own DNS address
/// to a guest forward. So libslirp's DNS address moves to an unused one
/// (`SlirpStack.slirpDNSAddress`), 10.0.2.3:53 becomes a guest forward to a
/// unix socket of ours (slirp_add_unix: libslirp connects to it for each
/// connection the container opens there), and each connection accepted
/// here is relayed to the upstream by a SpliceRelay: DNS over TCP is
/// length-prefixed messages on a byte stream, which pass through as they are.
final class DNSTCPProxy {
    static let maxRelays = 64

    let upstreams: [SocketAddress]
    let directory: String
    let path: String
    let listenFD: Int32
    private var relays: [SpliceRelay] = []
    private var polled: [SpliceRelay] = []

    /// `near`: the --record file, whose directory (cove's runtime
    /// directory, a tmpfs as a rule) takes the socket's directory when it
    /// is ours alone and the path fits a socket address; else /tmp's.
    init(upstreams: [SocketAddress], near record: String? = nil) throws {
        self.upstreams = upstreams
        // A directory of our own (0700): nobody else can connect to the
        // socket. In the user's own parent when it can be had, so looking
        // for what killed cove-nets left reads a few entries, not all /tmp.
        let parent = DNSTCPProxy.parent(near: record) ?? DNSTCPProxy.ownParent()
        if let parent { DNSTCPProxy.removeStale(in: parent) }
        var template = Array(((parent.map { $0 + "/" } ?? DNSTCPProxy.directoryPrefix) + "XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.flatMap { mkdtemp($0) } }
        guard let made else {
            throw SyscallError("make a directory for the TCP DNS socket in \(parent ?? "/tmp")")
        }
        directory = String(cString: made)
        path = directory + "/dns.sock"
        // libslirp connects with a blocking connect(2) from inside our own
        // loop: a full backlog would block it for good. One turn feeds slirp
        // at most 256 frames (see SlirpStack.readFromTap), each turn
        // accepts every waiting connection: a backlog above that never fills.
        do { listenFD = try NetAPISocket.listen(path, backlog: 1024) } catch {
            rmdir(directory)
            throw error
        }
    }

    /// Where the socket's directory is made (mkdtemp): in
    /// `/tmp/cove-net-UID/`, else (that name taken by something not ours)
    /// as `/tmp/cove-net-XXXXXX`. A cove-net killed before its cleanup
    /// leaves it; the front removes it, as named in the helper's record
    /// (see OCIHook.recordServer), and so does the next cove-net.
    static let directoryPrefix = "/tmp/cove-net-"

    /// The --record file's directory, if private and short enough for
    /// `DIR/XXXXXX/dns.sock` in a sockaddr_un (107 bytes).
    static func parent(near record: String?) -> String? {
        guard let dir = record.flatMap(Files.parent), !dir.isEmpty, dir.utf8.count + 16 <= 107,
              Files.ensurePrivateDirectory(dir) else { return nil }
        return dir
    }

    /// `/tmp/cove-net-UID`, made 0700 if missing; nil unless it is a real
    /// directory of ours that only we can enter.
    static func ownParent() -> String? {
        let path = directoryPrefix + String(getuid())
        return Files.ensurePrivateDirectory(path) ? path : nil
    }

    /// Removes the socket directories in `parent` of cove-nets killed
    /// before their cleanup: a dns.sock no socket is bound to any more
    /// (absent from /proc/net/unix, which lists this network namespace's,
    /// the host's). Bounded by a count of entries.
    static func removeStale(in parent: String) {
        var bound: Set<String>?
        for name in ((try? Files.listDirectory(parent)) ?? []).prefix(10_000) {
            let path = parent + "/" + name
            guard Files.lstatMode(path + "/dns.sock").map({ $0 & S_IFMT == S_IFSOCK }) == true else { continue }
            // A socket bound since the list was read (another cove-net
            // starting now) is not in it: read it again, after the lstat,
            // before calling any socket stale. bind(2) makes the file and
            // the list entry together.
            if bound?.contains(path + "/dns.sock") != true {
                guard let text = try? Files.readText("/proc/net/unix") else { return }
                // Num RefCount Protocol Flags Type St Inode Path: the
                // path is the rest of the line after seven fields, spaces
                // and all (a --runroot may have some).
                bound = Set(text.split(separator: "\n").compactMap { line in
                    let f = line.split(separator: " ", maxSplits: 7, omittingEmptySubsequences: true)
                    return f.count == 8 ? String(f[7]) : nil
                })
            }
            guard bound?.contains(path + "/dns.sock") == false else { continue }
            unlink(path + "/dns.sock")
            rmdir(path)
        }
    }

    /// Makes libslirp hand connections to `address`:53 to this proxy.
    func attach(to slirp: OpaquePointer, address: IPv4Address) throws {
        var a = in_addr(s_addr: address.raw)
        guard slirp_add_unix(slirp, path, &a, 53) == 0 else {
            throw SyscallError("forward TCP DNS at \(address):53 to \(path)", errno: EEXIST)
        }
    }

    /// Listener first, then each relay's two entries.
    func pollEntries(into p: inout [pollfd]) {
        p.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
        polled = relays
        for r in polled {
            let (c, s) = r.pollEntries()
            p.append(c)
            p.append(s)
        }
    }

    func handle(_ revents: ArraySlice<pollfd>) {
        guard let first = revents.first else { return }
        var i = revents.startIndex + 1
        for r in polled {
            guard i + 1 < revents.endIndex else { break }
            r.handle(client: revents[i].revents, server: revents[i + 1].revents)
            i += 2
        }
        relays.removeAll { $0.closed }
        if first.revents & Int16(POLLIN) != 0 { acceptAll() }
    }

    private func acceptAll() {
        for _ in 0..<1024 {
            guard let c = try? NetAPISocket.accept(listenFD) else { return }
            guard relays.count < DNSTCPProxy.maxRelays, let upstream = upstreams.first else {
                InetSockets.closeWithReset(c)
                continue
            }
            let (s, e) = InetSockets.connect(udp: false, from: nil, to: upstream)
            guard s >= 0 else {
                NetLog.error("dns over tcp: connect to \(upstream): \(SyscallError("", errno: e).reason)")
                close(c)
                continue
            }
            do { relays.append(try SpliceRelay(client: c, server: s)) } catch {
                close(c)
                close(s)
            }
        }
    }

    func closeAll() {
        for r in relays { r.reset() }
        relays.removeAll()
        close(listenFD)
        unlink(path)
        rmdir(directory)
    }
}
