import Foundation
import Testing

/// cove-net's own TCP for connections the container opens to the gateway
/// 10.0.2.2 with the host's loopback allowed (GatewayTCP): bulk data both
/// ways, half-close, refusal, several connections at once, and the table
/// emptied after. The host's python3 runs on both ends (in the container
/// with /usr and /lib bound read-only). Traffic goes only to this host's
/// 127.0.0.1 and the container; every wait and loop is bounded.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct NetGatewayTCPTests {
    /// The host's end: on each connection, "get N SEED" answers N bytes of
    /// Random(SEED) and ends; "put" reads to the end of the client's data
    /// and answers its sha256. Serves `connections` connections, then exits.
    static let server = """
        import hashlib, os, random, socket, sys, threading
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        s.settimeout(120)
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write(str(s.getsockname()[1]))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        def serve(c):
            c.settimeout(60)
            f = c.makefile("rb")
            try:
                words = f.readline().split()
                if words and words[0] == b"get":
                    c.sendall(random.Random(int(words[2])).randbytes(int(words[1])))
                elif words and words[0] == b"put":
                    h = hashlib.sha256()
                    for _ in range(1 << 20):
                        d = f.read1(1 << 20)
                        if not d:
                            break
                        h.update(d)
                    c.sendall(h.hexdigest().encode() + b"\\n")
                c.shutdown(socket.SHUT_WR)
            finally:
                f.close()
                c.close()
        threads = []
        for _ in range(int(sys.argv[2])):
            c, _ = s.accept()
            t = threading.Thread(target=serve, args=(c,))
            t.start()
            threads.append(t)
        for t in threads:
            t.join(90)
        """

    /// The container's end: each argument is an operation, all run at once
    /// in threads; one line per operation, sorted by its name.
    ///   get:N:SEED   fetch N bytes and compare with Random(SEED)
    ///   put:N:SEED   send N bytes of Random(SEED), shut the write side,
    ///                read the server's sha256 and compare
    ///   refused:PORT connect to a port nothing listens on
    ///   hold:N       open N connections one after another and keep them:
    ///                "CONNECTED REFUSED", then all closed and, once one
    ///                connects again (bounded), "then ok" if a get works
    /// A get also reports whether window scaling was negotiated (TCP_INFO's
    /// options): libslirp never offers it, cove-net's own TCP does.
    static let client = """
        import errno, hashlib, random, socket, sys, threading, time
        host, port = "10.0.2.2", int(sys.argv[1])
        results = {}
        def read_all(c, size):
            # Up to the peer's end, at most 100 reads.
            data = b""
            for _ in range(100):
                d = c.recv(size)
                if not d:
                    break
                data += d
            return data
        def get(name, n, seed):
            c = socket.create_connection((host, port), timeout=60)
            info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            c.sendall(b"get %d %d\\n" % (n, seed))
            h, got = hashlib.sha256(), 0
            for _ in range(1 << 22):
                d = c.recv(1 << 20)
                if not d:
                    break
                h.update(d)
                got += len(d)
            c.close()
            same = h.hexdigest() == hashlib.sha256(random.Random(seed).randbytes(n)).hexdigest()
            results[name] = "ok" if same and got == n else "bad: %d bytes" % got
            results[name + "-wscale"] = "yes" if info[5] & 4 else "no"
        def put(name, n, seed):
            c = socket.create_connection((host, port), timeout=60)
            data = random.Random(seed).randbytes(n)
            c.sendall(b"put\\n")
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            answer = read_all(c, 200)
            c.close()
            results[name] = "ok" if answer.decode().strip() == hashlib.sha256(data).hexdigest() else "bad: %r" % answer
        def refused(name, p):
            c = socket.socket()
            c.settimeout(20)
            try:
                c.connect((host, p))
                results[name] = "connected"
            except ConnectionRefusedError:
                results[name] = "refused"
            except OSError as e:
                results[name] = "error: %s" % e
            c.close()
        def hold(name, n):
            held, refused = [], 0
            for _ in range(n):
                try:
                    held.append(socket.create_connection((host, port), timeout=20))
                except ConnectionRefusedError:
                    refused += 1
            for c in held:
                c.close()
            after = "never"
            for _ in range(100):
                try:
                    c = socket.create_connection((host, port), timeout=20)
                except ConnectionRefusedError:
                    time.sleep(0.05)
                    continue
                c.sendall(b"get 1000 5\\n")
                data = read_all(c, 4096)
                c.close()
                after = "ok" if data == random.Random(5).randbytes(1000) else "bad"
                break
            results[name] = "%d %d then %s" % (len(held), refused, after)
        def run(i, op):
            kind, *args = op.split(":")
            try:
                {"get": get, "put": put, "refused": refused, "hold": hold}[kind]("%s%d" % (kind, i), *map(int, args))
            except Exception as e:
                results["%s%d" % (kind, i)] = "error: %r" % e
        threads = [threading.Thread(target=run, args=(i, op)) for i, op in enumerate(sys.argv[2:])]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for k in sorted(results):
            print(k, results[k])
        """

    /// A container with python3 and cove-net allowing the host's loopback,
    /// and the host's server for `connections` connections.
    final class Setup {
        let n: NetTests.Networked
        let server: pid_t
        let port: Int

        init(_ id: String, connections: Int, openFiles: Int? = nil) throws {
            // The container outlives the test (a busy machine runs it slowly):
            // its processes end with its init.
            n = try NetTests.Networked(id, netArgs: ["--allow-host-loopback"], args: ["sleep", "600"],
                                       openFiles: openFiles) { b in
                for dir in ["/usr", "/lib", "/lib64"] where FileManager.default.fileExists(atPath: dir) {
                    b.mounts.append(["destination": dir, "type": "bind", "source": dir, "options": ["rbind", "ro"]])
                }
            }
            do { try n.waitForTap() } catch { n.abandon(); throw error }
            let portFile = n.bundle.dir + "/port"
            server = try Harness.spawn("/usr/bin/python3", ["-c", NetGatewayTCPTests.server, portFile, String(connections)],
                                       stderr: n.bundle.dir + "/server.err")
            var found: Int?
            for _ in 0..<500 {
                if let t = try? String(contentsOfFile: portFile, encoding: .utf8), let p = Int(t) { found = p; break }
                usleep(10_000)
            }
            guard let found else {
                kill(server, SIGKILL)
                _ = try? Harness.finish(server, timeout: 5)
                n.abandon()
                throw NetTests.Failure("host server did not start")
            }
            port = found
        }

        /// Runs the client in the container with these operations; its
        /// lines as name → result.
        func client(_ ops: [String], timeout: Double = 120) throws -> [String: String] {
            // The script goes in as an argument: the rootfs belongs to the
            // container's ids, not to this user.
            let quoted = "'" + NetGatewayTCPTests.client.replacingOccurrences(of: "'", with: "'\\''") + "'"
            let r = try n.exec("/usr/bin/python3 -c \(quoted) \(port) \(ops.joined(separator: " "))", timeout: timeout)
            var out: [String: String] = [:]
            for line in r.stdout.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { out[String(parts[0])] = String(parts[1]) }
            }
            if out.isEmpty { out["exec"] = "status \(r.status): \(r.stderr)" }
            return out
        }

        /// cove-net's open sockets (its fds that are sockets).
        var netSockets: Int {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(n.netPid)/fd")) ?? []
            return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(n.netPid)/fd/\($0)"))?
                .hasPrefix("socket:") == true }.count
        }

        func stop() throws -> (server: Int32, net: Int32) {
            let s = try Harness.finish(server, timeout: 100, command: "host server")
            return (s, try n.stop())
        }
    }

    @Test func largeBodiesBothWaysAndHalfClose() throws {
        let s = try Setup("g1", connections: 2)
        let size = 64 << 20
        let r = try s.client(["get:\(size):7", "put:\(size):8"], timeout: 180)
        #expect(r["get0"] == "ok", "\(r); cove-net: \(s.n.netErr)")
        #expect(r["get0-wscale"] == "yes", "window scaling: cove-net's own TCP took the connection: \(r)")
        // put: the container sends, shuts its write side, still reads the answer.
        #expect(r["put1"] == "ok", "\(r); cove-net: \(s.n.netErr)")
        let ended = try s.stop()
        #expect(ended.server == 0, "host server: \((try? String(contentsOfFile: s.n.bundle.dir + "/server.err", encoding: .utf8)) ?? "")")
        #expect(ended.net == 0, "\(s.n.netErr)")
    }

    /// Frames lost both ways: an nftables rule in the container's network
    /// namespace drops every 20th packet coming in (cove-net's segments:
    /// sent again after duplicate acks or a timeout) and every 20th going
    /// out (the container's: out of order here, acked so that it resends).
    @Test func lostFramesAreSentAgain() throws {
        let s = try Setup("g5", connections: 2)
        let nft = ["/usr/bin/nsenter", "--preserve-credentials", "-U", "-n", "-t", String(s.n.containerPid), "nft"]
        for rule in ["add table ip loss",
                     "add chain ip loss in { type filter hook input priority 0; }",
                     "add chain ip loss out { type filter hook output priority 0; }",
                     "add rule ip loss in ip saddr 10.0.2.2 numgen inc mod 20 0 counter drop",
                     "add rule ip loss out ip daddr 10.0.2.2 numgen inc mod 20 0 counter drop"] {
            let r = try Harness.run(nft[0], Array(nft.dropFirst()) + rule.split(separator: " ").map(String.init))
            try #require(r.status == 0, "nft \(rule): \(r.stderr)")
        }
        let size = 8 << 20
        let r = try s.client(["get:\(size):31", "put:\(size):32"])
        #expect(r["get0"] == "ok", "\(r); cove-net: \(s.n.netErr)")
        #expect(r["put1"] == "ok", "\(r); cove-net: \(s.n.netErr)")
        let listed = try Harness.run(nft[0], Array(nft.dropFirst()) + ["list", "table", "ip", "loss"])
        let dropped = listed.stdout.split(separator: "\n").filter { $0.contains("counter packets") && !$0.contains("packets 0 ") }
        #expect(dropped.count == 2, "frames were dropped both ways: \(listed.stdout)")
        let ended = try s.stop()
        #expect(ended.server == 0 && ended.net == 0, "\(s.n.netErr)")
    }

    @Test func aRefusedPortIsRefusedNotTimedOut() throws {
        let s = try Setup("g2", connections: 1)
        let closed = try NetTests.freeLoopbackPort()
        // The client waits at most 20 s: a refusal, not that timeout.
        let r = try s.client(["refused:\(closed)", "get:1000:3"])
        #expect(r["refused0"] == "refused", "\(r); cove-net: \(s.n.netErr)")
        #expect(r["get1"] == "ok", "the next connection works: \(r)")
        let ended = try s.stop()
        #expect(ended.server == 0 && ended.net == 0, "\(s.n.netErr)")
    }

    /// With 64 open files cove-net takes 16 connections to the gateway
    /// (a quarter of the limit, at least 16); the next are reset, so the
    /// container sees them refused; once those close, new ones are taken.
    @Test func connectionsBeyondTheBoundAreRefused() throws {
        let s = try Setup("g4", connections: 17, openFiles: 64)
        let r = try s.client(["hold:24"])
        #expect(r["hold0"] == "16 8 then ok", "\(r); cove-net: \(s.n.netErr)")
        let ended = try s.stop()
        #expect(ended.server == 0 && ended.net == 0, "\(s.n.netErr)")
    }

    @Test func severalConnectionsAtOnceAndTheTableEmptiesAfter() throws {
        let s = try Setup("g3", connections: 12)
        let before = s.netSockets
        var ops: [String] = []
        for i in 0..<6 { ops += ["get:\(4 << 20):\(10 + i)", "put:\(4 << 20):\(20 + i)"] }
        let r = try s.client(ops)
        for i in 0..<ops.count {
            let name = (i % 2 == 0 ? "get" : "put") + String(i)
            #expect(r[name] == "ok", "\(name): \(r); cove-net: \(s.n.netErr)")
        }
        // Every connection ended both ways: cove-net's host sockets are
        // closed again (bounded wait: the last acks may be in flight).
        var after = s.netSockets
        for _ in 0..<100 where after > before {
            usleep(50_000)
            after = s.netSockets
        }
        #expect(after == before, "sockets before \(before), after \(after)")
        let ended = try s.stop()
        #expect(ended.server == 0 && ended.net == 0, "\(s.n.netErr)")
    }
}
