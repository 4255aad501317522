import Foundation
import Testing

/// cove-net against a detached container: tap0 inside, libslirp outside.
/// Traffic goes only to this host's 127.0.0.1 (through 10.0.2.2) and to the
/// container's own 10.0.2.100; every wait is bounded.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct NetTests {
    static let greeting = "hello-from-host"

    /// A running container with cove-net attached, stopped by `stop()`.
    final class Networked {
        let bundle: Bundle
        let id: String
        let containerPid: Int
        let netPid: pid_t
        var netErr: String { (try? String(contentsOfFile: bundle.dir + "/net.err", encoding: .utf8)) ?? "" }

        /// openFiles: cove-net's limit on open files (soft and hard), set
        /// by prlimit(1), which execs it in the same process.
        init(_ id: String, netArgs: [String] = [], args: [String] = ["sleep", "60"], openFiles: Int? = nil,
             configure: (Bundle) -> Void = { _ in }) throws {
            bundle = try Bundle("net")
            self.id = id
            bundle.setArgs(args)
            configure(bundle)
            let r = try bundle.runtime(["run", "--detach", "--bundle", bundle.dir, id])
            guard r.status == 0 else { throw Failure("run --detach: \(r.stderr)") }
            guard let pid = try bundle.state(id)?["pid"] as? Int else { throw Failure("no pid in state of \(id)") }
            containerPid = pid
            let net = [Harness.binary("cove-net"), "--netns", "/proc/\(pid)/ns/net", "--userns", "/proc/\(pid)/ns/user",
                       "--pid", String(pid)] + netArgs
            let argv = openFiles.map { ["/usr/bin/prlimit", "--nofile=\($0):\($0)", "--"] + net } ?? net
            netPid = try Harness.spawn(argv[0], Array(argv.dropFirst()),
                                       stdout: bundle.dir + "/net.out", stderr: bundle.dir + "/net.err")
        }

        func exec(_ script: String, timeout: Double = 30) throws -> Harness.Output {
            try bundle.runtime(["exec", id, "sh", "-c", script], timeout: timeout)
        }

        /// Waits (at most ten seconds) for tap0 to carry its address.
        func waitForTap() throws {
            for _ in 0..<200 {
                if try exec("ip -4 addr show tap0 2>/dev/null").stdout.contains("10.0.2.100") { return }
                var status: Int32 = 0
                if waitpid(netPid, &status, WNOHANG) == netPid {
                    throw Failure("cove-net exited during setup: \(netErr)")
                }
                usleep(50_000)
            }
            throw Failure("tap0 never got 10.0.2.100; cove-net said: \(netErr)")
        }

        private var netStatus: Int32?

        /// Deletes the container and returns cove-net's exit status.
        func stop() throws -> Int32 {
            if let netStatus { return netStatus }
            _ = try bundle.runtime(["delete", "--force", id])
            let s = try Harness.finish(netPid, timeout: 10, command: "cove-net after delete of \(id)")
            netStatus = s
            return s
        }

        /// For a test that failed early: nothing left running.
        func abandon() {
            _ = try? bundle.runtime(["delete", "--force", id])
            kill(netPid, SIGKILL)
            _ = try? Harness.finish(netPid, timeout: 5)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A one-connection TCP server on 127.0.0.1 that greets and closes; it
    /// gives up after twenty seconds. Returns its pid and port.
    static func hostServer(in dir: String) throws -> (pid_t, Int) {
        let portFile = dir + "/port"
        let script = """
            import os, socket, sys
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(4)
            s.settimeout(20)
            with open(sys.argv[1] + ".tmp", "w") as f:
                f.write(str(s.getsockname()[1]))
            os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            try:
                c, _ = s.accept()
            except socket.timeout:
                sys.exit(3)
            c.sendall(b"\(greeting)\\n")
            c.close()
            """
        let pid = try Harness.spawn("/usr/bin/python3", ["-c", script, portFile], stderr: dir + "/server.err")
        for _ in 0..<500 {
            if let t = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(t) { return (pid, port) }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = try? Harness.finish(pid, timeout: 5)
        throw Failure("host server did not start")
    }

    @Test func tapHasItsAddressMtuAndADefaultRoute() throws {
        let n = try Networked("n1")
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        let r = try n.exec("ip addr show tap0; ip addr show lo; ip route")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("inet 10.0.2.100/24"), "\(r.stdout)")
        #expect(r.stdout.contains("mtu 65520"), "\(r.stdout)")
        #expect(r.stdout.contains("default via 10.0.2.2 dev tap0"), "\(r.stdout)")
        #expect(r.stdout.contains("inet 127.0.0.1/8"), "lo is up: \(r.stdout)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func hostLoopbackIsReachableThroughTheGatewayWhenAllowed() throws {
        let n = try Networked("n2", netArgs: ["--allow-host-loopback"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        let (server, port) = try NetTests.hostServer(in: n.bundle.dir)
        let r = try n.exec("nc -w 5 10.0.2.2 \(port)")
        #expect(r.stdout == NetTests.greeting + "\n", "nc: \(r.stderr); cove-net: \(n.netErr)")
        if r.stdout.isEmpty { kill(server, SIGKILL) }
        #expect(try Harness.finish(server, timeout: 25, command: "host server") == 0)
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// The front's way: cove-unshare starts cove-net itself from the
    /// config's io.cove.network.helper annotation before it makes the
    /// container and sends it its arguments; init hands over its
    /// namespaces; cove-net makes tap0 there (with the MTU it was given),
    /// records itself in the bundle and ends with the container.
    @Test func coveUnshareStartsCoveNetAndHandsItTheTap() throws {
        let b = try Bundle("handoff")
        let (server, port) = try NetTests.hostServer(in: b.dir)
        let helper = try JSONSerialization.data(withJSONObject: [Harness.binary("cove-net"), "--allow-host-loopback",
                                                                 "--mtu", "9000"])
        b.config["annotations"] = ["io.cove.network.helper": String(decoding: helper, as: UTF8.self)]
        let r = try b.sh("ip -o link show tap0; ip -4 -o addr show tap0; nc -w 5 10.0.2.2 \(port)", id: "ho1")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("mtu 9000") && r.stdout.contains("10.0.2.100/24"), "\(r.stdout)")
        #expect(r.stdout.contains(NetTests.greeting), "\(r.stdout) \(r.stderr)")
        if !r.stdout.contains(NetTests.greeting) { kill(server, SIGKILL) }
        _ = try? Harness.finish(server, timeout: 25, command: "host server")
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: b.dir + "/network.pid")))
        let doc = try #require(record as? [String: Any])
        #expect(doc["helper"] as? String == "cove-net")
        let pid = try #require(doc["pid"] as? Int32)
        // It ends with the container: at most ten seconds after.
        var gone = false
        for _ in 0..<1000 {
            if kill(pid, 0) != 0 || ((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true) {
                gone = true
                break
            }
            usleep(10_000)
        }
        #expect(gone, "cove-net \(pid) outlived its container")
    }

    /// The helper's failure (here a forward on a port someone holds) is
    /// the container's: start fails with cove-net's own line, nothing is left.
    @Test func aNetworkHelperThatFailsFailsTheStart() throws {
        let b = try Bundle("handoff")
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(holder, $0, len) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &len) == 0 } }
        let port = Int(UInt16(bigEndian: a.sin_port))
        #expect(port > 0)
        let helper = try JSONSerialization.data(withJSONObject: [Harness.binary("cove-net"), "--publish", "127.0.0.1:\(port):80"])
        b.config["annotations"] = ["io.cove.network.helper": String(decoding: helper, as: UTF8.self)]
        let r = try b.sh("echo ran", id: "ho2")
        #expect(r.status != 0 && !r.stdout.contains("ran"))
        #expect(r.stderr.contains("127.0.0.1:\(port)") && r.stderr.contains("in use")
                && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)

        b.config["annotations"] = ["io.cove.network.helper": "cove-net"]
        let bad = try b.sh("echo ran", id: "ho3")
        #expect(bad.status != 0 && bad.stderr.contains("io.cove.network.helper") && bad.stderr.contains("JSON array"),
                "\(bad.stderr)")
    }

    @Test func hostLoopbackIsRefusedByDefault() throws {
        let n = try Networked("n3")
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        let (server, port) = try NetTests.hostServer(in: n.bundle.dir)
        let r = try n.exec("nc -w 3 10.0.2.2 \(port)")
        #expect(r.status != 0)
        #expect(!r.stdout.contains(NetTests.greeting))
        kill(server, SIGKILL)
        _ = try Harness.finish(server, timeout: 5, command: "host server")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func coveNetEndsWhenTheContainerIsDeleted() throws {
        let n = try Networked("n4")
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        // Still serving while the container runs.
        usleep(200_000)
        var status: Int32 = 0
        #expect(waitpid(n.netPid, &status, WNOHANG) == 0)
        // stop() waits for cove-net's exit, bounded, and fails the test on a timeout.
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// A port on 127.0.0.1 that was free a moment ago.
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw Failure("bind 127.0.0.1:0: \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func aPublishedUDPPortReachesTheContainer() throws {
        let port = try NetTests.freeLoopbackPort()
        // Debian's busybox has no UDP listener (no nc -u, no udpsvd): the
        // host's python3 runs inside, its /usr and /lib bound read-only.
        let server = "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('0.0.0.0', 9999)); "
            + "s.settimeout(30); d, a = s.recvfrom(100); open('/dev/shm/got', 'wb').write(d)"
        let n = try Networked("n7", netArgs: ["--publish", "127.0.0.1:\(port):9999/udp"],
                              args: ["sh", "-c", "/usr/bin/python3 -c \"\(server)\" & exec sleep 60"]) { b in
            for dir in ["/usr", "/lib", "/lib64"] where FileManager.default.fileExists(atPath: dir) {
                b.mounts.append(["destination": dir, "type": "bind", "source": dir, "options": ["rbind", "ro"]])
            }
        }
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        // Datagrams until one arrives (the listener may start late): bounded.
        let sender = """
            import socket, sys, time
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for _ in range(40):
                s.sendto(b"datagram-from-host\\n", ("127.0.0.1", int(sys.argv[1])))
                time.sleep(0.1)
            """
        let send = try Harness.spawn("/usr/bin/python3", ["-c", sender, String(port)])
        var got = ""
        for _ in 0..<60 {
            got = try n.exec("cat /dev/shm/got 2>/dev/null").stdout
            if got.contains("datagram-from-host") { break }
            usleep(100_000)
        }
        _ = try? Harness.finish(send, timeout: 20, command: "udp sender")
        #expect(got.contains("datagram-from-host"), "\(n.netErr)")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    @Test func aPublishedPortReachesTheContainer() throws {
        let port = try NetTests.freeLoopbackPort()
        let n = try Networked("n5", netArgs: ["--publish", "127.0.0.1:\(port):8080"],
                              args: ["sh", "-c", "for i in 1 2 3; do echo hello-from-container | nc -l -p 8080; done; exec sleep 60"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        // The listener in the container may not be up yet: cove-net then
        // resets the connection, and the client tries again (bounded).
        let got = try NetTests.readFromLoopback(port)
        #expect(got != nil, "cove-net: \(n.netErr)")
        #expect(got == "hello-from-container\n")
        #expect(try n.stop() == 0, "\(n.netErr)")
    }

    /// One request to cove-net's API socket; the reply, parsed.
    static func api(_ socket: String, _ request: String) throws -> [String: Any] {
        let client = """
            import socket, sys
            for _ in range(100):
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.settimeout(5)
                    s.connect(sys.argv[1])
                    break
                except OSError:
                    s.close()
                    import time; time.sleep(0.05)
            s.sendall(sys.argv[2].encode() + b"\\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            sys.stdout.write(data.decode())
            """
        let r = try Harness.run("/usr/bin/python3", ["-c", client, socket, request], timeout: 20)
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] else {
            throw Failure("api \(request): status \(r.status), \(r.stdout) \(r.stderr)")
        }
        return obj
    }

    /// What a client on the host reads from 127.0.0.1:port, trying a few
    /// times while the container's listener comes up; nil if nothing.
    static func readFromLoopback(_ port: Int, attempts: Int = 50) throws -> String? {
        let client = """
            import socket, sys, time
            for _ in range(int(sys.argv[2])):
                try:
                    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
                    data = c.recv(100)
                    c.close()
                    if data:
                        sys.stdout.write(data.decode())
                        sys.exit(0)
                except OSError:
                    pass
                time.sleep(0.1)
            sys.exit(1)
            """
        let r = try Harness.run("/usr/bin/python3", ["-c", client, String(port), String(attempts)], timeout: 30)
        return r.status == 0 ? r.stdout : nil
    }

    @Test func theApiAddsListsAndRemovesForwards() throws {
        let port = try NetTests.freeLoopbackPort()
        let sockDir = try Harness.temporaryDirectory("netapi")
        defer { try? FileManager.default.removeItem(atPath: sockDir) }
        let sock = sockDir + "/api.sock"
        let n = try Networked("n6", netArgs: ["--api-socket", sock],
                              args: ["sh", "-c", "for i in 1 2 3; do echo hello-from-container | nc -l -p 8080; done; exec sleep 60"])
        do { try n.waitForTap() } catch { n.abandon(); throw error }
        defer { _ = try? n.stop() }

        let added = try NetTests.api(sock, """
            {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": \(port), "guest_port": 8080}}
            """)
        let id = try #require((added["return"] as? [String: Any])?["id"] as? Int, "\(added); \(n.netErr)")
        let busy = try NetTests.api(sock, """
            {"execute": "add_hostfwd", "arguments": {"host_addr": "127.0.0.1", "host_port": \(port), "guest_port": 9090}}
            """)
        let busyDesc = (busy["error"] as? [String: Any])?["desc"] as? String ?? ""
        #expect(busyDesc.contains("127.0.0.1:\(port)"), "a port in use is refused: \(busy)")
        let listed = try NetTests.api(sock, #"{"execute": "list_hostfwd"}"#)
        let entries = (listed["return"] as? [String: Any])?["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 1)
        #expect(entries.first?["host_port"] as? Int == port)
        #expect(entries.first?["guest_port"] as? Int == 8080)
        #expect(entries.first?["id"] as? Int == id)

        #expect(try NetTests.readFromLoopback(port) == "hello-from-container\n", "\(n.netErr)")

        let removed = try NetTests.api(sock, #"{"execute": "remove_hostfwd", "arguments": {"id": \#(id)}}"#)
        #expect(removed["return"] != nil, "\(removed)")
        #expect(try NetTests.readFromLoopback(port, attempts: 3) == nil)
        let again = try NetTests.api(sock, #"{"execute": "remove_hostfwd", "arguments": {"id": \#(id)}}"#)
        #expect(again["error"] != nil)
        let bad = try NetTests.api(sock, #"{"execute": "reboot"}"#)
        #expect(((bad["error"] as? [String: Any])?["desc"] as? String)?.contains("unknown command") == true)
        #expect(try n.stop() == 0, "\(n.netErr)")
        #expect(!FileManager.default.fileExists(atPath: sock), "the socket is removed at exit")
    }

    @Test func aBadPublishIsRejected() throws {
        let r = try Harness.run(Harness.binary("cove-net"), ["--netns", "/x", "--userns", "/y", "--publish", "80"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--publish 80"), "\(r.stderr)")
    }

    @Test func badArgumentsAreRejected() throws {
        let r = try Harness.run(Harness.binary("cove-net"), ["--netns", "/nonexistent/net", "--userns", "/nonexistent/user"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("/nonexistent/user"), "\(r.stderr)")
        let u = try Harness.run(Harness.binary("cove-net"), ["--mtu", "12"])
        #expect(u.status == 2)
        #expect(u.stderr.contains("--mtu"), "\(u.stderr)")
    }
}
