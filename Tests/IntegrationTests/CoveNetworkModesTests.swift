import Foundation
import Testing

/// The front's network modes and port forms beyond a single -p: ranges,
/// a host port chosen free, pasta, a network namespace joined by path or
/// shared with another container, and a network helper that dies while its
/// container runs. Traffic stays on this host's loopback and in namespaces
/// the tests made; every wait is bounded.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveNetworkModesTests {
    let img = FrontFixture.plain
    func cove(_ args: [String], timeout: Double = 60, env: [String: String] = [:]) throws -> Harness.Output {
        let s = try FrontFixture.prepared.get()
        return try Harness.run(Harness.binary("cove"), ["--root", s.root, "--runroot", s.runroot] + args, env: env,
                               timeout: timeout)
    }

    /// GET http://HOST:PORT/PATH from the host, retried while the container
    /// starts its servers (bounded); the body, or nil.
    static func get(_ host: String, _ port: Int, _ path: String = "") throws -> String? {
        for _ in 0..<50 {
            let r = try Harness.run("/usr/bin/python3", ["-c", """
                import urllib.request, sys
                try: print(urllib.request.urlopen("http://\(host):\(port)/\(path)", timeout=3).read().decode(), end="")
                except Exception as e: sys.exit(1)
                """], timeout: 10)
            if r.status == 0 { return r.stdout }
            usleep(100_000)
        }
        return nil
    }

    /// `count` consecutive free TCP ports on 127.0.0.1.
    static func freeRange(_ count: Int) throws -> Int {
        for _ in 0..<50 {
            let base = Int.random(in: 20000...50000)
            let fds = (0..<count).map { i -> Int32 in
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var a = sockaddr_in()
                a.sin_family = sa_family_t(AF_INET); a.sin_port = in_port_t(UInt16(base + i).bigEndian)
                a.sin_addr.s_addr = inet_addr("127.0.0.1")
                let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
                if !ok { close(fd); return -1 }
                return fd
            }
            for fd in fds where fd >= 0 { close(fd) }
            if fds.allSatisfy({ $0 >= 0 }) { return base }
        }
        throw Harness.SetupFailure(description: "no \(count) consecutive free ports")
    }

    /// Busybox httpd on each port in `ports`, each serving its own index.html.
    static func servers(_ ports: [Int]) -> String {
        ports.map { "mkdir -p /w\($0) && echo srv-\($0) > /w\($0)/index.html && httpd -p \($0) -h /w\($0)" }
            .joined(separator: " && ") + " && exec sleep 300"
    }

    @Test func aRangeOfTCPForwardsEachReachesItsOwnServer() throws {
        let base = try Self.freeRange(3)
        let name = "pr\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "-p", "127.0.0.1:\(base)-\(base + 2):8081-8083", img,
                            "sh", "-c", Self.servers([8081, 8082, 8083])])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        for i in 0..<3 {
            #expect(try Self.get("127.0.0.1", base + i) == "srv-\(8081 + i)\n", "host port \(base + i)")
        }
        let port = try cove(["port", name])
        #expect(port.stdout == (0..<3).map { "\(8081 + $0)/tcp -> 127.0.0.1:\(base + $0)\n" }.joined(), "\(port.stdout)")
    }

    @Test func aContainerPortAloneGetsAFreeHostPortThatPortShows() throws {
        let name = "pf\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "-p", "127.0.0.1::8081", "-p", "8082/tcp", img,
                            "sh", "-c", Self.servers([8081, 8082])])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let first = try cove(["port", name, "8081"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let chosen = try #require(first.split(separator: ":").last.flatMap { Int($0) }, "cove port said \(first)")
        #expect(first == "127.0.0.1:\(chosen)")
        #expect(try Self.get("127.0.0.1", chosen) == "srv-8081\n")
        let second = try cove(["port", name, "8082/tcp"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let other = try #require(second.split(separator: ":").last.flatMap { Int($0) }, "cove port said \(second)")
        #expect(second == "0.0.0.0:\(other)")
        #expect(try Self.get("127.0.0.1", other) == "srv-8082\n")
    }

    /// A host range for one container port: the first port in it no one
    /// holds, another container's published port included.
    @Test func aHostRangeForOnePortTakesTheFirstFreeOne() throws {
        let base = try Self.freeRange(2)
        let first = "pa\(getpid())", second = "pb\(getpid())"
        let a = try cove(["run", "-d", "--name", first, "-p", "127.0.0.1:\(base):8081", img, "sh", "-c", Self.servers([8081])])
        #expect(a.status == 0, "\(a.stderr)")
        defer { _ = try? cove(["rm", "-f", first]) }
        let b = try cove(["run", "-d", "--name", second, "-p", "127.0.0.1:\(base)-\(base + 1):8082", img,
                          "sh", "-c", Self.servers([8082])])
        #expect(b.status == 0, "\(b.stderr)")
        defer { _ = try? cove(["rm", "-f", second]) }
        #expect(try cove(["port", second, "8082"]).stdout == "127.0.0.1:\(base + 1)\n")
        #expect(try Self.get("127.0.0.1", base) == "srv-8081\n")
        #expect(try Self.get("127.0.0.1", base + 1) == "srv-8082\n")
        // The same port asked for outright: refused, not shared.
        let taken = try cove(["run", "--rm", "-p", "127.0.0.1:\(base):8083", img, "true"])
        #expect(taken.status == 125 && taken.stderr.contains("127.0.0.1:\(base)") && taken.stderr.contains("in use")
                && taken.stderr.split(separator: "\n").count == 1, "\(taken.stderr)")
        #expect(try Self.get("127.0.0.1", base) == "srv-8081\n")
    }

    /// `run --rm -p` returns with its published port free again: cove-net,
    /// which held it, is waited for (without -p it is not). Checked by a
    /// bind right after each run, five runs.
    @Test func aPublishedPortIsFreeOnceRunRmReturns() throws {
        let port = try Self.freeRange(1)
        for _ in 0..<5 {
            let r = try cove(["run", "--rm", "-p", "127.0.0.1:\(port):8081", img, "true"])
            #expect(r.status == 0, "\(r.stderr)")
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET); a.sin_port = in_port_t(UInt16(port).bigEndian)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            let e = errno
            close(fd)
            #expect(bound == 0, "127.0.0.1:\(port) still taken after run --rm returned: errno \(e)")
        }
    }

    @Test(arguments: [
        ("8000-8002:80-83", "differ in length"),
        ("127.0.0.1:8000-8003:80-82/udp", "differ in length"),
        ("80/sctp", "unknown protocol"),
        ("8000-7000:80", "no port range"),
        ("nope:80:80", "no IPv4 address"),
    ])
    func badPublishIsOneLineAndExit125(_ spec: String, _ says: String) throws {
        let r = try cove(["run", "--rm", "-p", spec, img, "true"])
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(says) && r.stderr.contains(spec), "\(r.stderr)")
    }

    @Test func pastaGivesANetworkAndForwardsAPublishedPort() throws {
        let port = try LoopbackServer.freePort()
        let name = "pa\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "--network", "pasta", "-p", "127.0.0.1:\(port):8081", img,
                            "sh", "-c", Self.servers([8081])])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        #expect(try Self.get("127.0.0.1", port) == "srv-8081\n")
        // pasta's interface: the host's own address copied in, no 10.0.2.x tap.
        let addr = try cove(["exec", name, "sh", "-c", "ip -4 -o addr show scope global; cat /etc/resolv.conf"])
        #expect(addr.status == 0 && addr.stdout.contains("inet ") && !addr.stdout.contains("10.0.2.100"), "\(addr.stdout)")
        #expect(addr.stdout.contains("nameserver 169.254.1.1"), "\(addr.stdout)")
        let initPid = try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let monitor = try #require(CoveNetworkTests.stat(initPid)?.ppid)
        #expect(try cove(["rm", "-f", name]).status == 0)
        // Nothing of pasta's is left under the container's monitor.
        let left = Self.children(of: monitor).filter { CoveNetworkTests.stat($0)?.comm.hasPrefix("pasta") ?? false }
        #expect(left.isEmpty, "pasta left running: \(left)")
    }

    static func children(of parent: String) -> [String] {
        let procs = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }
        return procs.filter { CoveNetworkTests.stat($0).map { $0.ppid == parent && $0.state != "Z" } ?? false }
    }

    @Test func pastaMissingIsOneLineAndExit125() throws {
        // A PATH without pasta on it (but with the id-map tools cove needs).
        let dir = try Harness.temporaryDirectory("nopasta")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for tool in ["newuidmap", "newgidmap", "fuse-overlayfs", "fusermount3"] {
            for d in ["/usr/bin", "/usr/sbin", "/bin", "/sbin"] where FileManager.default.fileExists(atPath: "\(d)/\(tool)") {
                try? FileManager.default.createSymbolicLink(atPath: "\(dir)/\(tool)", withDestinationPath: "\(d)/\(tool)")
            }
        }
        let r = try cove(["run", "--rm", "--network", "pasta", img, "true"], env: ["PATH": dir])
        #expect(r.status == 125, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("pasta not found")
                && r.stderr.contains("passt"), "\(r.stderr)")
    }

    @Test func nsPathJoinsANamespaceOfTheUsers() throws {
        // A network namespace of the test's own: unshare -rn makes a user
        // namespace (0 → us) that owns it; the sleeping shell keeps both.
        let dir = try Harness.temporaryDirectory("netns")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let holder = try Harness.spawn("/usr/bin/unshare", ["-rn", "sh", "-c",
            "ip link set lo up && ip addr add 10.77.0.1/32 dev lo && touch \(dir)/ready && exec sleep 120"],
            stderr: dir + "/err")
        defer { kill(holder, SIGKILL); _ = try? Harness.finish(holder, timeout: 5) }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: dir + "/ready") { usleep(20_000) }
        try #require(FileManager.default.fileExists(atPath: dir + "/ready"),
                     "unshare -rn did not start: \((try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? "")")
        let r = try cove(["run", "--rm", "--network", "ns:/proc/\(holder)/ns/net", img, "sh", "-c",
                          "ip -4 -o addr show dev lo; ls /sys/class/net"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("10.77.0.1/32") && r.stdout.hasSuffix("lo\n"), "\(r.stdout) \(r.stderr)")
        // Made by the host's user namespace (ours here is the initial one): refused, one line.
        let host = try cove(["run", "--rm", "--network", "ns:/proc/self/ns/net", img, "true"])
        #expect(host.status == 125 && host.stderr.split(separator: "\n").count == 1
                && host.stderr.contains("host's user namespace"), "\(host.stderr)")
        let none = try cove(["run", "--rm", "--network", "ns:/no/such/netns", img, "true"])
        #expect(none.status == 125 && none.stderr.contains("/no/such/netns"), "\(none.stderr)")
    }

    @Test func containerModeSharesTheOthersNetwork() throws {
        let name = "cn\(getpid())"
        let run = try cove(["run", "-d", "--name", name, img, "sh", "-c",
                            "mkdir -p /w && echo from-$(hostname) > /w/index.html && httpd -p 127.0.0.1:8080 -h /w && exec sleep 300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var r = Harness.Output(status: -1, stdout: "", stderr: "")
        for _ in 0..<30 {
            r = try cove(["run", "--rm", "--network", "container:\(name)", img, "sh", "-c",
                          "ip -4 -o addr show tap0; wget -q -O- http://127.0.0.1:8080/"])
            if r.status == 0 { break }
            usleep(100_000)
        }
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("10.0.2.100/24") && r.stdout.hasSuffix("from-\(id.prefix(12))\n"), "\(r.stdout)")
        // Made now, started after the peer has restarted (a new init pid):
        // it joins the peer as it is when it starts.
        let later = try cove(["create", "--name", name + "y", "--network", "container:\(name)", img, "sh", "-c",
                              "wget -q -O- http://127.0.0.1:8080/"])
        #expect(later.status == 0, "\(later.stderr)")
        defer { _ = try? cove(["rm", "-f", name + "y"]) }
        let before = try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout
        #expect(try cove(["restart", "-t", "0", name]).status == 0)
        #expect(try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout != before)
        var joined = Harness.Output(status: -1, stdout: "", stderr: "")
        for _ in 0..<30 {
            joined = try cove(["start", "-a", name + "y"])
            if joined.status == 0 { break }
            usleep(100_000)
        }
        #expect(joined.status == 0 && joined.stdout == "from-\(id.prefix(12))\n", "\(joined.stdout) \(joined.stderr)")
        let stopped = try cove(["create", "--name", name + "x", img, "true"])
        defer { _ = try? cove(["rm", "-f", name + "x"]) }
        #expect(stopped.status == 0)
        let refused = try cove(["run", "--rm", "--network", "container:\(name)x", img, "true"])
        #expect(refused.status == 125 && refused.stderr.contains("not running"), "\(refused.stderr)")
        // A peer on the host's network: one line, not a failure deep in the runtime.
        let host = try cove(["run", "-d", "--name", name + "h", "--network", "host", img, "sleep", "300"])
        defer { _ = try? cove(["rm", "-f", name + "h"]) }
        #expect(host.status == 0, "\(host.stderr)")
        let onHost = try cove(["run", "--rm", "--network", "container:\(name)h", img, "true"])
        #expect(onHost.status == 125 && onHost.stderr == "Error: cannot join the network of container \(name)h: "
                + "it uses the host's network; use --network host\n", "\(onHost.stderr)")
        // A keep-id peer: its user namespace maps ids otherwise than this
        // container's root filesystem expects: one line, not wrong owners.
        let keep = try cove(["run", "-d", "--name", name + "k", "--userns", "keep-id", img, "sleep", "300"])
        defer { _ = try? cove(["rm", "-f", name + "k"]) }
        #expect(keep.status == 0, "\(keep.stderr)")
        let plain = try cove(["run", "--rm", "--network", "container:\(name)k", img, "true"])
        #expect(plain.status == 125 && plain.stderr == "Error: cannot join the network of container \(name)k: it runs with "
                + "--userns=keep-id, whose user namespace would come with its network; start it without --userns to "
                + "share its network\n", "\(plain.stderr)")
    }

    /// kill -9 of the container's cove-net: the container keeps running,
    /// `cove inspect` says its network is gone, `cove ps` still lists it.
    @Test func aDeadCoveNetIsRecordedAndTheContainerRuns() throws {
        let name = "dn\(getpid())"
        let run = try cove(["run", "-d", "--name", name, img, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        #expect(try cove(["inspect", "-f", "{{.State.Error}}", name]).stdout == "\n")
        let initPid = try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let monitor = try #require(CoveNetworkTests.stat(initPid)?.ppid)
        let net = try #require(CoveNetworkTests.coveNets(under: monitor).first { CoveNetworkTests.stat($0).map { $0.comm == "cove-net" && $0.ppid == monitor } ?? false })
        // Its record (in the runtime directory, not the container's) names
        // the directory of its TCP DNS socket, beside it, which a kill -9
        // leaves behind and `cove rm` removes.
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!FileManager.default.fileExists(atPath: FrontFixture.root + "/containers/\(id)/network.pid"))
        let recordPath = FrontFixture.runroot + "/net/" + id
        let record = try String(contentsOfFile: recordPath, encoding: .utf8)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(record.utf8)) as? [String: Any])
        #expect(doc["pid"] as? Int == Int(net) && doc["helper"] as? String == "cove-net", "\(record)")
        let leftovers = try #require(doc["leftovers"] as? String, "\(record)")
        #expect(leftovers.hasPrefix(FrontFixture.runroot + "/net/"), "\(leftovers)")
        kill(pid_t(net) ?? 0, SIGKILL)
        var error = ""
        for _ in 0..<100 {
            error = try cove(["inspect", "-f", "{{.State.Error}}", name]).stdout
            if error != "\n" { break }
            usleep(50_000)
        }
        #expect(error.contains("cove-net (pid \(net)) exited") && error.contains("no network"), "\(error)")
        #expect(try cove(["inspect", "-f", "{{.State.Status}}", name]).stdout == "running\n")
        let ps = try cove(["ps", "--format", "{{.Names}} {{.Status}}"])
        #expect(ps.status == 0 && ps.stdout.contains("\(name) Up") && ps.stdout.contains("(network down)"), "\(ps.stdout)")
        #expect(try cove(["exec", name, "true"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: leftovers))
        #expect(try cove(["rm", "-f", name]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: leftovers), "\(leftovers) left behind")
        #expect(!FileManager.default.fileExists(atPath: recordPath), "\(recordPath) left behind")
    }
}
