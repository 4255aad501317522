import Foundation
import Testing

/// cove-net's own host sockets for published ports: loopback clients take
/// the splice path and keep their address; DNS through 10.0.2.3; IPv6;
/// lifecycle. Traffic goes only to this host's loopback and into the
/// container's namespaces; every wait is bounded.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct NetSpliceTests {
    typealias Networked = NetTests.Networked
    typealias Failure = NetTests.Failure

    /// The host's python3 inside the container (busybox has no UDP or IPv6
    /// servers that report their peer): /usr and /lib bound read-only.
    static func withPython(_ b: Bundle) {
        for dir in ["/usr", "/lib", "/lib64"] where FileManager.default.fileExists(atPath: dir) {
            b.mounts.append(["destination": dir, "type": "bind", "source": dir, "options": ["rbind", "ro"]])
        }
    }

    /// A container running `python3 -c script` in the background, with
    /// cove-net attached.
    static func container(_ id: String, script: String, netArgs: [String]) throws -> Networked {
        let n = try Networked(id, netArgs: netArgs,
                              args: ["sh", "-c", "/usr/bin/python3 -c \"$0\" >/dev/shm/server.log 2>&1 & exec sleep 120", script],
                              configure: withPython)
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        return n
    }

    /// A TCP server on 0.0.0.0:8080 inside that answers each connection
    /// with the peer address it saw.
    static let tcpPeerServer = """
        import socket
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', 8080)); s.listen(16); s.settimeout(100)
        while True:
            c, a = s.accept(); c.sendall((a[0] + '\\n').encode()); c.close()
        """

    /// What a host client bound to `source` reads from 127.0.0.1:port,
    /// retried while the server inside comes up; nil if nothing.
    static func peerSeen(port: Int, source: String, udp: Bool = false, host: String = "127.0.0.1") throws -> String? {
        let client = """
            import socket, sys, time
            src, host, port, udp = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            for _ in range(60):
                try:
                    c = socket.socket(fam, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
                    c.settimeout(1)
                    c.bind((src, 0))
                    c.connect((host, port))
                    if udp:
                        c.send(b"who am i")
                    data = c.recv(100)
                    c.close()
                    if data:
                        sys.stdout.write(data.decode().strip())
                        sys.exit(0)
                except OSError:
                    pass
                time.sleep(0.1)
            sys.exit(1)
            """
        let r = try Harness.run("/usr/bin/python3", ["-c", client, source, host, String(port), udp ? "1" : "0"], timeout: 60)
        return r.status == 0 ? r.stdout : nil
    }

    @Test func aTCPClientOnLoopbackKeepsItsAddress() throws {
        let port = try NetTests.freeLoopbackPort()
        let n = try NetSpliceTests.container("s1", script: NetSpliceTests.tcpPeerServer,
                                             netArgs: ["--publish", "127.0.0.1:\(port):8080"])
        defer { n.abandon() }
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.1") == "127.0.0.1", "\(n.netErr)")
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.2") == "127.0.0.2", "\(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func aUDPClientOnLoopbackKeepsItsAddress() throws {
        let port = try NetTests.freeLoopbackPort()
        let server = """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 9999)); s.settimeout(100)
            while True:
                d, a = s.recvfrom(100); s.sendto((a[0] + '\\n').encode(), a)
            """
        let n = try NetSpliceTests.container("s2", script: server, netArgs: ["--publish", "127.0.0.1:\(port):9999/udp"])
        defer { n.abandon() }
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.1", udp: true) == "127.0.0.1", "\(n.netErr)")
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.2", udp: true) == "127.0.0.2", "\(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// 64 MiB each way through a forward, checked by SHA-256: the client
    /// sends and half-closes; the server answers with the digest of what it
    /// got, then 64 MiB of its own.
    @Test func sixtyFourMebibytesEachWayArriveIntact() throws {
        let port = try NetTests.freeLoopbackPort()
        let server = """
            import socket, hashlib
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('0.0.0.0', 8080)); s.listen(4); s.settimeout(100)
            block = bytes(range(256)) * 4096
            while True:
                c, a = s.accept(); h = hashlib.sha256()
                while True:
                    d = c.recv(1 << 20)
                    if not d: break
                    h.update(d)
                c.sendall(h.hexdigest().encode() + b'\\n')
                for i in range(64): c.sendall(block)
                c.close()
            """
        let n = try NetSpliceTests.container("s3", script: server, netArgs: ["--publish", "127.0.0.1:\(port):8080"])
        defer { n.abandon() }
        let client = """
            import socket, hashlib, os, sys, time
            port = int(sys.argv[1])
            data = os.urandom(64 << 20)
            for _ in range(60):
                try:
                    c = socket.create_connection(("127.0.0.1", port), timeout=60)
                    c.sendall(data)
                    c.shutdown(socket.SHUT_WR)
                    got = b""
                    while True:
                        d = c.recv(1 << 20)
                        if not d: break
                        got += d
                    if got:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            line, _, rest = got.partition(b"\\n")
            block = bytes(range(256)) * 4096
            sent_ok = line.decode() == hashlib.sha256(data).hexdigest()
            back_ok = hashlib.sha256(rest).hexdigest() == hashlib.sha256(block * 64).hexdigest()
            print("sent %s back %s %d" % (sent_ok, back_ok, len(rest)))
            """
        let r = try Harness.run("/usr/bin/python3", ["-c", client, String(port)], timeout: 120)
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "sent True back True \(64 << 20)",
                "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func theApiAddsAndRemovesLoopbackKeepingForwards() throws {
        let port = try NetTests.freeLoopbackPort()
        let sockDir = try Harness.temporaryDirectory("netapi")
        defer { try? FileManager.default.removeItem(atPath: sockDir) }
        let sock = sockDir + "/api.sock"
        let n = try NetSpliceTests.container("s4", script: NetSpliceTests.tcpPeerServer, netArgs: ["--api-socket", sock])
        defer { n.abandon() }
        let added = try NetTests.api(sock, """
            {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": \(port), "guest_port": 8080}}
            """)
        let id = try #require((added["return"] as? [String: Any])?["id"] as? Int, "\(added); \(n.netErr)")
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.3") == "127.0.0.3", "\(n.netErr)")
        let removed = try NetTests.api(sock, #"{"execute": "remove_hostfwd", "arguments": {"id": \#(id)}}"#)
        #expect(removed["return"] != nil, "\(removed)")
        #expect(try NetTests.readFromLoopback(port, attempts: 3) == nil)
        // The port is free again: it can be published anew.
        let again = try NetTests.api(sock, """
            {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": \(port), "guest_port": 8080}}
            """)
        #expect((again["return"] as? [String: Any])?["id"] as? Int == id + 1, "\(again)")
        #expect(try NetSpliceTests.peerSeen(port: port, source: "127.0.0.4") == "127.0.0.4", "\(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// A dnsmasq of the test's on 127.0.0.1:PORT that knows cove.test only
    /// (--no-resolv: nothing is asked further, no traffic leaves the host).
    static func dnsmasq(in dir: String) throws -> (pid_t, Int) {
        for _ in 0..<5 {
            let port = try NetTests.freeLoopbackPort()
            let pid = try Harness.spawn("/usr/sbin/dnsmasq",
                                        ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                         "--listen-address=127.0.0.1", "--bind-interfaces", "--port=\(port)",
                                         "--address=/cove.test/10.9.8.7", "--pid-file=", "--log-facility=-"],
                                        stderr: dir + "/dnsmasq.err")
            // Ready once it answers; bounded.
            for _ in 0..<50 {
                let probe = try Harness.run("/usr/bin/python3", ["-c", """
                    import socket, sys
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
                    q = b'\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x04cove\\x04test\\x00\\x00\\x01\\x00\\x01'
                    s.sendto(q, ('127.0.0.1', int(sys.argv[1])))
                    try:
                        s.recv(512); sys.exit(0)
                    except OSError:
                        sys.exit(1)
                    """, String(port)], timeout: 10)
                if probe.status == 0 { return (pid, port) }
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { break }
            }
            kill(pid, SIGKILL)
            _ = try? Harness.finish(pid, timeout: 5)
        }
        let err = (try? String(contentsOfFile: dir + "/dnsmasq.err", encoding: .utf8)) ?? ""
        throw Failure("dnsmasq did not start: \(err)")
    }

    @Test func theContainersResolverAnswersThroughTheUpstream() throws {
        let dir = try Harness.temporaryDirectory("dns")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (dns, port) = try NetSpliceTests.dnsmasq(in: dir)
        defer { kill(dns, SIGTERM); _ = try? Harness.finish(dns, timeout: 10) }
        let n = try Networked("s5", netArgs: ["--dns-upstream", "127.0.0.1:\(port)"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { n.abandon() }
        // -type=a: dnsmasq refuses the AAAA question it has no answer for.
        let r = try n.exec("nslookup -type=a cove.test 10.0.2.3")
        #expect(r.status == 0, "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        #expect(r.stdout.contains("10.9.8.7"), "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        let miss = try n.exec("nslookup -type=a not-served.invalid 10.0.2.3", timeout: 30)
        #expect(miss.status != 0, "\(miss.stdout)")
        #expect(!miss.stdout.contains("10.9.8.7"))
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// A DNS query over TCP to 10.0.2.3:53 (two length bytes, then the
    /// message) reaches the same upstream as UDP: the test's dnsmasq on
    /// 127.0.0.1:PORT, the only one that knows cove.test. libslirp alone
    /// would send it to port 53 of resolv.conf's first nameserver.
    @Test func aTCPQueryGoesToTheSameUpstreamAsUDP() throws {
        let dir = try Harness.temporaryDirectory("dnstcp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (dns, port) = try NetSpliceTests.dnsmasq(in: dir)
        defer { kill(dns, SIGTERM); _ = try? Harness.finish(dns, timeout: 10) }
        // What a cove-net killed before its cleanup leaves: a socket no one
        // is bound to any more, in /tmp/cove-net-UID/. The next cove-net
        // removes it.
        let stale = "/tmp/cove-net-\(getuid())/stale\(getpid())"
        let made = try Harness.run("/usr/bin/python3", ["-c", """
            import os, socket, sys
            os.makedirs(sys.argv[1], 0o700); s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + "/dns.sock"); s.close()
            """, stale])
        #expect(made.status == 0 && FileManager.default.fileExists(atPath: stale + "/dns.sock"), "\(made.stderr)")
        let n = try Networked("s9", netArgs: ["--dns-upstream", "127.0.0.1:\(port)"], configure: NetSpliceTests.withPython)
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { n.abandon() }
        let ask = """
            import socket, struct, sys
            def ask(name, qid):
                q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
                q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\\x00' + struct.pack('>HH', 1, 1)
                s = socket.create_connection(('10.0.2.3', 53), timeout=10)
                s.sendall(struct.pack('>H', len(q)) + q)
                want = struct.unpack('>H', s.recv(2, socket.MSG_WAITALL))[0]
                a = s.recv(want, socket.MSG_WAITALL); s.close()
                assert struct.unpack('>H', a[:2])[0] == qid, 'id'
                return a
            a = ask('cove.test', 0x4242)
            print('answers', struct.unpack('>H', a[6:8])[0], 'has-10.9.8.7', bytes([10, 9, 8, 7]) in a)
            # Two connections at once: each its own relay.
            b = ask('cove.test', 0x4343); c = ask('cove.test', 0x4444)
            print('again', bytes([10, 9, 8, 7]) in b and bytes([10, 9, 8, 7]) in c)
            """
        let r = try n.bundle.runtime(["exec", n.id, "/usr/bin/python3", "-c", ask], timeout: 60)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        #expect(r.stdout == "answers 1 has-10.9.8.7 True\nagain True\n", "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        // UDP still answers from the same upstream.
        let udp = try n.exec("nslookup -type=a cove.test 10.0.2.3")
        #expect(udp.stdout.contains("10.9.8.7"), "\(udp.stdout) \(udp.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale), "\(stale) left behind")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func ipv6GivesAnAddressAndReachesTheHostsLoopback() throws {
        let dir = try Harness.temporaryDirectory("v6")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let portFile = dir + "/port"
        let server = """
            import os, socket, sys
            s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.listen(4); s.settimeout(30)
            open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            c, a = s.accept(); c.sendall(b"hello-over-ipv6\\n"); c.close()
            """
        let srv = try Harness.spawn("/usr/bin/python3", ["-c", server, portFile], stderr: dir + "/server.err")
        defer { kill(srv, SIGKILL); _ = try? Harness.finish(srv, timeout: 5) }
        var port = 0
        for _ in 0..<500 where port == 0 {
            port = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            if port == 0 { usleep(10_000) }
        }
        try #require(port != 0, "the IPv6 server on ::1 did not start")
        let n = try Networked("s6", netArgs: ["--enable-ipv6", "--allow-host-loopback"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { n.abandon() }
        let addr = try n.exec("ip -6 addr show tap0; ip -6 route")
        #expect(addr.stdout.contains("inet6 fd00::100/64"), "\(addr.stdout) \(addr.stderr)")
        #expect(addr.stdout.contains("default via fd00::2 dev tap0"), "\(addr.stdout)")
        let r = try n.exec("nc -w 5 fd00::2 \(port)")
        #expect(r.stdout == "hello-over-ipv6\n", "nc: \(r.stderr); cove-net: \(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func anIPv6LoopbackClientKeepsItsAddress() throws {
        let port = try NetTests.freeLoopbackPort()
        let server = """
            import socket
            s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(('::', 8080)); s.listen(16); s.settimeout(100)
            while True:
                c, a = s.accept(); c.sendall((a[0] + '\\n').encode()); c.close()
            """
        let n = try NetSpliceTests.container("s7", script: server,
                                             netArgs: ["--enable-ipv6", "--publish", "[::1]:\(port):8080"])
        defer { n.abandon() }
        #expect(try NetSpliceTests.peerSeen(port: port, source: "::1", host: "::1") == "::1", "\(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// The pids of a process's children, from /proc/PID/task/*/children.
    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func readyFdAndNothingOutlivesTheContainer() throws {
        let port = try NetTests.freeLoopbackPort()
        let bundle = try Bundle("netready")
        bundle.setArgs(["sleep", "60"])
        let r = try bundle.runtime(["run", "--detach", "--bundle", bundle.dir, "s8"])
        try #require(r.status == 0, "\(r.stderr)")
        let pid = try #require(try bundle.state("s8")?["pid"] as? Int)
        let ready = bundle.dir + "/ready"
        // fd 3 is a file: the byte can be looked for without a pipe.
        let net = try Harness.spawn("/bin/sh", ["-c", "exec \"$0\" \"$@\" 3>\(ready)", Harness.binary("cove-net"),
                                                "--netns", "/proc/\(pid)/ns/net", "--userns", "/proc/\(pid)/ns/user",
                                                "--pid", String(pid), "--publish", "127.0.0.1:\(port):8080",
                                                "--ready-fd", "3"],
                                    stderr: bundle.dir + "/net.err")
        var said = ""
        for _ in 0..<200 {
            said = (try? String(contentsOfFile: ready, encoding: .utf8)) ?? ""
            if !said.isEmpty { break }
            usleep(50_000)
        }
        let err = { (try? String(contentsOfFile: bundle.dir + "/net.err", encoding: .utf8)) ?? "" }
        #expect(said == "1", "cove-net: \(err())")
        // Ready means listening: the port is in LISTEN already, looked up in
        // /proc/net/tcp (a connection would be reset, nothing serves inside).
        let hexPort = String(format: ":%04X", port)
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        let listening = table.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count > 3 && f[1].hasSuffix(hexPort) && f[3] == "0A"
        }
        #expect(listening, "127.0.0.1:\(port) is not listening once ready")
        let kids = NetSpliceTests.children(of: net)
        #expect(kids.count == 1, "one connector: \(kids)")
        let names = kids.map { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) ?? "" }
        #expect(names.allSatisfy { $0.hasPrefix("cove-net:conn") }, "\(names)")

        _ = try bundle.runtime(["delete", "--force", "s8"])
        #expect(try Harness.finish(net, timeout: 10, command: "cove-net after delete") == 0, "\(err())")
        for k in kids {
            var gone = false
            for _ in 0..<100 {
                if kill(k, 0) != 0 && errno == ESRCH { gone = true; break }
                usleep(20_000)
            }
            #expect(gone, "the connector \(k) outlived cove-net")
        }
        #expect(try NetTests.readFromLoopback(port, attempts: 1) == nil, "the port is closed with cove-net")
    }

    @Test func theConnectorDiesWithAKilledCoveNet() throws {
        let n = try Networked("s9")
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { n.abandon() }
        let kids = NetSpliceTests.children(of: n.netPid)
        #expect(kids.count == 1, "one connector: \(kids)")
        kill(n.netPid, SIGKILL)
        _ = try Harness.finish(n.netPid, timeout: 10, command: "cove-net after SIGKILL")
        for k in kids {
            var gone = false
            for _ in 0..<250 {
                // Gone, or a zombie waiting for init: either way not running.
                let stat = (try? String(contentsOfFile: "/proc/\(k)/stat", encoding: .utf8)) ?? ""
                if stat.isEmpty || stat.contains(") Z ") { gone = true; break }
                usleep(20_000)
            }
            #expect(gone, "the connector \(k) outlived a killed cove-net")
        }
    }

    /// Nothing listens inside: the splice path's connect is refused there,
    /// and the host client sees a reset, not a connection that hangs.
    @Test func aRefusedConnectionInsideIsAResetOutside() throws {
        let port = try NetTests.freeLoopbackPort()
        let n = try Networked("s10", netArgs: ["--publish", "127.0.0.1:\(port):8081"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { n.abandon() }
        let client = """
            import socket, sys
            try:
                # The reset may come before connect() has returned.
                c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
                d = c.recv(10)
                print("eof" if not d else "data")
            except ConnectionResetError:
                print("reset")
            except socket.timeout:
                print("hang")
            """
        let r = try Harness.run("/usr/bin/python3", ["-c", client, String(port)], timeout: 30)
        #expect(r.stdout == "reset\n", "\(r.stdout) \(r.stderr); cove-net: \(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// Without --pid: cove-net ends once no process of the container is
    /// left in its network namespace (looked for once a second).
    @Test func withoutPidCoveNetEndsWhenTheNamespaceEmpties() throws {
        let bundle = try Bundle("netnopid")
        bundle.setArgs(["sleep", "60"])
        let r = try bundle.runtime(["run", "--detach", "--bundle", bundle.dir, "s11"])
        try #require(r.status == 0, "\(r.stderr)")
        let pid = try #require(try bundle.state("s11")?["pid"] as? Int)
        let net = try Harness.spawn(Harness.binary("cove-net"),
                                    ["--netns", "/proc/\(pid)/ns/net", "--userns", "/proc/\(pid)/ns/user"],
                                    stderr: bundle.dir + "/net.err")
        let err = { (try? String(contentsOfFile: bundle.dir + "/net.err", encoding: .utf8)) ?? "" }
        // Running while the container runs (its tap is made, it stays).
        var up = false
        for _ in 0..<200 where !up {
            up = try bundle.runtime(["exec", "s11", "sh", "-c", "ip -4 addr show tap0"]).stdout.contains("10.0.2.100")
            if !up { usleep(50_000) }
        }
        #expect(up, "tap0 never came: \(err())")
        // Past a check or two: the container's process is seen, so it stays.
        usleep(2_500_000)
        var status: Int32 = 0
        #expect(waitpid(net, &status, WNOHANG) == 0, "cove-net ended early: \(err())")
        let kids = NetSpliceTests.children(of: net)
        _ = try bundle.runtime(["delete", "--force", "s11"])
        #expect(try Harness.finish(net, timeout: 15, command: "cove-net without --pid after delete") == 0, "\(err())")
        #expect(err().contains("no process left"), "\(err())")
        for k in kids {
            var gone = false
            for _ in 0..<100 {
                if kill(k, 0) != 0 && errno == ESRCH { gone = true; break }
                usleep(20_000)
            }
            #expect(gone, "the connector \(k) outlived cove-net")
        }
    }
}
