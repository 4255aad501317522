import Foundation
import Testing

/// `cove run` and friends as the unprivileged user, compared with podman
/// on the same images where behaviour matters.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveRunTests {
    let img = FrontFixture.plain
    func cove(_ args: [String], timeout: Double = 60) throws -> Harness.Output { try FrontFixture.cove(args, timeout: timeout) }

    @Test func runPrintsAndReturnsTheContainersExitCode() throws {
        let hello = try cove(["run", "--rm", "--network", "none", img, "echo", "hello", "-n"])
        #expect(hello.status == 0, "\(hello.stderr)")
        #expect(hello.stdout == "hello -n\n")
        #expect(try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "exit 42"]).status == 42)
        #expect(try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "exit 1"]).status == 1)
    }

    /// docker's codes: 127 not found, 126 not executable, 125 cove's own failure.
    /// An attached run starts cove-unshare before it makes the container
    /// (cove-unshare run --early-fd): one the front then gives up on (here
    /// the image is missing and may not be pulled) leaves quietly. Only the
    /// front's line is printed, and nothing of it stays: no runtime state,
    /// no container, no process.
    @Test func anEarlyStartTheFrontGivesUpOnLeavesNothing() throws {
        // A runtime directory of its own: other suites run containers at once.
        let runroot = try Harness.temporaryDirectory("early-run")
        defer { try? FileManager.default.removeItem(atPath: runroot) }
        let s = try FrontFixture.prepared.get()
        for network in ["none", "slirp4netns"] {
            let r = try Harness.run(Harness.binary("cove"), ["--root", s.root, "--runroot", runroot, "run", "--rm",
                                                             "--pull=never", "--network", network,
                                                             "localhost/no-such-image:\(getpid())", "true"])
            #expect(r.status == 125, "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("--pull=never"), "\(r.stderr)")
        }
        // The early cove-unshare has ended (the front waits for it) and
        // removed its runtime directory: none is left.
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: runroot + "/runtime")) ?? [])
            .filter { $0.count == 64 }
        #expect(left.isEmpty, "left in \(runroot)/runtime: \(left)")
    }

    /// cove-net's record (and its TCP DNS socket's directory beside it)
    /// lives in the runtime directory: `run --rm`, which does not wait for
    /// cove-net, leaves none of it behind. A runtime directory of its own,
    /// as other suites run containers at once.
    @Test func runRmLeavesNoNetworkRecord() throws {
        let runroot = try Harness.temporaryDirectory("net-run")
        defer { try? FileManager.default.removeItem(atPath: runroot) }
        let s = try FrontFixture.prepared.get()
        for _ in 0..<5 {
            let r = try Harness.run(Harness.binary("cove"), ["--root", s.root, "--runroot", runroot, "run", "--rm", img, "true"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        var left: [String] = []
        // cove-net, not waited for, removes its part at its end: at most 5 s.
        for _ in 0..<250 {
            left = (try? FileManager.default.contentsOfDirectory(atPath: runroot + "/net")) ?? []
            if left.isEmpty { break }
            usleep(20_000)
        }
        #expect(left.isEmpty, "left in \(runroot)/net: \(left)")
    }

    @Test func exitCodesFollowDocker() throws {
        let missing = try cove(["run", "--rm", "--network", "none", img, "no-such-command"])
        #expect(missing.status == 127, "\(missing.stderr)")
        let notExec = try cove(["run", "--rm", "--network", "none", img, "/etc/passwd"])
        #expect(notExec.status == 126, "\(notExec.stderr)")
        let noImage = try cove(["run", "--rm", "--network", "none", "localhost/no-such-image", "true"])
        #expect(noImage.status == 125)
        #expect(noImage.stderr.hasPrefix("Error: ") && noImage.stderr.split(separator: "\n").count == 1, "\(noImage.stderr)")
        #expect(noImage.stderr.contains("localhost/no-such-image"))
        let badFlag = try cove(["run", "--no-such-flag", img, "true"])
        #expect(badFlag.status == 125, "\(badFlag.stderr)")
        let badCap = try cove(["run", "--rm", "--cap-add", "NOT_A_CAP", img, "true"])
        #expect(badCap.status == 125 && badCap.stderr.contains("NOT_A_CAP"), "\(badCap.stderr)")
    }

    /// Entrypoint and cmd rules, against podman on the same image.
    @Test(arguments: [
        [String](),
        ["a", "b"],
        ["--entrypoint", "/bin/echo"],
        ["--entrypoint", "/bin/echo", "X", "y"],
        ["--entrypoint", "", "echo", "z"],
    ])
    func entrypointAndCmdRulesMatchPodman(args: [String]) throws {
        var flags: [String] = [], rest: [String] = []
        var i = 0
        while i < args.count {
            if args[i] == "--entrypoint" { flags += [args[i], args[i + 1]]; i += 2 } else { rest.append(args[i]); i += 1 }
        }
        let ours = try cove(["run", "--rm", "--network", "none"] + flags + [FrontFixture.entry] + rest)
        let theirs = try FrontFixture.podman(["run", "--rm", "--network=none", "--pull=never"] + flags + [FrontFixture.entry] + rest)
        #expect(ours.status == theirs.status, "cove: \(ours.stderr) podman: \(theirs.stderr)")
        #expect(ours.stdout == theirs.stdout)
    }

    /// Environment, user and working directory, against podman (the image
    /// sets ENV and WORKDIR; its entrypoint is cleared to run the command).
    @Test(arguments: [
        ([String](), ["env"]),
        (["-e", "FOO=bar", "-e", "GREETING=override"], ["env"]),
        (["-u", "nobody"], ["sh", "-c", "id; env"]),
        (["-u", "1234:5678"], ["sh", "-c", "id -u; id -g; id -G"]),
        ([String](), ["sh", "-c", "id -u; id -g; id -G"]),
        (["-w", "/etc"], ["pwd"]),
        ([String](), ["pwd"]),
    ])
    func environmentUserAndWorkdirMatchPodman(flags: [String], command: [String]) throws {
        func lines(_ s: String) -> [String] {
            s.split(separator: "\n").map(String.init)
                .filter { !$0.hasPrefix("HOSTNAME=") && !$0.hasPrefix("container=") }.sorted()
        }
        let ours = try cove(["run", "--rm", "--network", "none", "--entrypoint", ""] + flags + [FrontFixture.entry] + command)
        let theirs = try FrontFixture.podman(["run", "--rm", "--network=none", "--pull=never", "--entrypoint", ""]
                                             + flags + [FrontFixture.entry] + command)
        #expect(ours.status == theirs.status, "cove: \(ours.stderr) podman: \(theirs.stderr)")
        #expect(lines(ours.stdout) == lines(theirs.stdout))
        #expect(!ours.stdout.isEmpty)
    }

    /// A container that writes nothing leaves its upper layer empty: the
    /// bind targets /etc/hosts, /etc/hostname and /etc/resolv.conf, in the
    /// image already, are mounted on as they are, not copied up first (an
    /// image without them gets them made there, as with docker).
    @Test func aContainerThatWritesNothingLeavesItsUpperLayerEmpty() throws {
        let dir = try Harness.temporaryDirectory("etcfiles")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Harness.makeRootfs(at: dir + "/rootfs")
        for f in ["hosts", "hostname", "resolv.conf"] {
            try "from the image\n".write(toFile: dir + "/rootfs/etc/" + f, atomically: false, encoding: .utf8)
        }
        let t = try Harness.run("/bin/tar", ["--owner=0", "--group=0", "-C", dir + "/rootfs", "-cf", dir + "/r.tar", "."])
        #expect(t.status == 0, "\(t.stderr)")
        let image = "localhost/etcfiles\(getpid())"
        let imp = try cove(["import", "--change", "ENV=PATH=/bin", dir + "/r.tar", image])
        #expect(imp.status == 0, "\(imp.stderr)")
        defer { _ = try? cove(["rmi", "-f", image]) }
        let name = "u\(getpid())"
        let run = try cove(["run", "--name", name, image, "cat", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf"])
        #expect(run.status == 0 && run.stdout.contains("127.0.0.1") && !run.stdout.contains("from the image"), "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let upper = FrontFixture.root + "/containers/" + id + "/upper"
        #expect(FileManager.default.fileExists(atPath: upper))
        let inUpper = try FileManager.default.subpathsOfDirectory(atPath: upper)
        #expect(inUpper.isEmpty, "copied up: \(inUpper)")
    }

    @Test func aWriteStaysInItsContainerAndTheLayersAreUntouched() throws {
        let name = "w\(getpid())"
        let script = "test -e /bin/new && echo again; echo new > /bin/new && rm -f /etc/passwd && test ! -e /etc/passwd"
        let write = try cove(["run", "--name", name, "--network", "none", img, "sh", "-c", script])
        #expect(write.status == 0 && write.stdout.isEmpty, "\(write.stderr)")
        let other = try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "test ! -e /bin/new && test -e /etc/passwd"])
        #expect(other.status == 0, "\(other.stderr)")
        // The unpacked layer still holds the file the container deleted.
        let layers = try FileManager.default.contentsOfDirectory(atPath: FrontFixture.root + "/layers").filter { !$0.hasPrefix(".") }
        #expect(layers.contains { FileManager.default.fileExists(atPath: FrontFixture.root + "/layers/\($0)/etc/passwd") })
        // Restarting the same container finds its own write again.
        let again = try cove(["start", "-a", name])
        #expect(again.status == 0 && again.stdout == "again\n", "\(again.stderr)")
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        #expect(try cove(["rm", name]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: FrontFixture.root + "/containers/" + id))
        // Nothing of it stays mounted in our namespace.
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mountinfo.contains(FrontFixture.root))
    }

    /// `rm` removes the writable layer in-process when it is all the
    /// user's own (a read-only directory of ours too), and through cove-fs
    /// when a container left a non-empty directory of a subordinate id.
    @Test(arguments: [
        "mkdir -p /a/b && echo x > /a/b/f && chmod 500 /a/b /a",
        "mkdir -p /sub/d && echo x > /sub/d/f && chown -R 1000:1000 /sub && chmod 700 /sub/d /sub",
    ])
    func rmRemovesTheWritableLayerWhoeverOwnsItsFiles(script: String) throws {
        let name = "rm\(getpid())\(UInt16.random(in: 0...UInt16.max))"
        let run = try cove(["run", "--name", name, "--network", "none", img, "sh", "-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        let upper = FrontFixture.root + "/containers/" + id + "/upper"
        #expect(FileManager.default.fileExists(atPath: upper + "/" + (script.contains("/sub") ? "sub" : "a")))
        let rm = try cove(["rm", name])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(!FileManager.default.fileExists(atPath: FrontFixture.root + "/containers/" + id))
        #expect(try cove(["ps", "-a", "-q"]).stdout.contains(String(id.prefix(12))) == false)
    }

    @Test func aDetachedContainerLogsStopsStartsAndIsRemoved() throws {
        let name = "d\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "--network", "none", img, "sh", "-c",
                            "echo out; echo err >&2; trap 'exit 7' TERM; while :; do sleep 0.1; done"])
        #expect(run.status == 0, "\(run.stderr)")
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        defer { _ = try? cove(["rm", "-f", name]) }
        let ps = try cove(["ps", "--format", "{{.Names}} {{.State}}"])
        #expect(ps.stdout.split(separator: "\n").contains("\(name) running"), "\(ps.stdout)")
        // The log fills as the container writes; poll briefly.
        var logs = Harness.Output(status: -1, stdout: "", stderr: "")
        for _ in 0..<100 {
            logs = try cove(["logs", name])
            if logs.stdout == "out\n" && logs.stderr == "err\n" { break }
            usleep(50_000)
        }
        #expect(logs.stdout == "out\n" && logs.stderr == "err\n", "\(logs)")
        let exec = try cove(["exec", name, "cat", "/etc/hostname"])
        #expect(exec.status == 0 && exec.stdout == String(id.prefix(12)) + "\n", "\(exec.stderr)")
        #expect(try cove(["exec", name, "sh", "-c", "exit 3"]).status == 3)
        let stop = try cove(["stop", "-t", "5", name])
        #expect(stop.status == 0 && stop.stdout == name + "\n", "\(stop.stderr)")
        #expect(try cove(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name]).stdout == "exited 7\n")
        #expect(!(try cove(["ps", "-q"]).stdout.contains(String(id.prefix(12)))))
        let psAll = try cove(["ps", "-a", "--format", "{{.Names}}|{{.Status}}"]).stdout
        #expect(psAll.contains("\(name)|Exited (7)"), "\(psAll)")
        #expect(try cove(["wait", name]).stdout == "7\n")
        // Started again, then killed: 128 + 9.
        #expect(try cove(["start", name]).status == 0)
        #expect(try cove(["kill", name]).status == 0)
        #expect(try cove(["wait", name]).stdout == "137\n")
        // Both runs wrote to the log; the last line is the second run's stderr.
        let logs2 = try cove(["logs", "--tail", "1", name])
        #expect(logs2.stdout == "" && logs2.stderr == "err\n", "\(logs2)")
        #expect(try cove(["logs", name]).stdout == "out\nout\n")
        #expect(try cove(["rm", name]).status == 0)
        #expect(try cove(["ps", "-a", "-q"]).stdout.contains(String(id.prefix(12))) == false)
    }

    @Test func aDetachedContainerSurvivesItsTerminalClosing() throws {
        let name = "t\(getpid())"
        let s = try FrontFixture.prepared.get()
        // script(1) gives the command a terminal and closes it when it returns.
        let cmd = [Harness.binary("cove"), "--root", s.root, "--runroot", s.runroot, "run", "-d", "--name", name,
                   "--network", "none", img, "sleep", "300"].joined(separator: " ")
        let r = try Harness.run("/usr/bin/script", ["-qec", cmd, "/dev/null"], timeout: 60)
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        usleep(200_000)
        #expect(try cove(["inspect", "-f", "{{.State.Status}}", name]).stdout == "running\n")
        #expect(try cove(["rm", "-f", name]).status == 0)
    }

    @Test func namesAreUniqueAndARunningContainerIsNotRemovedWithoutForce() throws {
        let name = "n\(getpid())"
        #expect(try cove(["run", "-d", "--name", name, "--network", "none", img, "sleep", "300"]).status == 0)
        defer { _ = try? cove(["rm", "-f", name]) }
        let dup = try cove(["create", "--name", name, "--network", "none", img, "true"])
        #expect(dup.status == 125 && dup.stderr.contains("already in use"), "\(dup.stderr)")
        let rm = try cove(["rm", name])
        #expect(rm.status == 125 && rm.stderr.contains("rm -f"), "\(rm.stderr)")
        #expect(try cove(["rename", name, name + "-x"]).status == 0)
        #expect(try cove(["rm", "-f", name + "-x"]).status == 0)
        #expect(try cove(["inspect", name + "-x"]).status == 125)
    }

    @Test func aBindMountedDirectoryGetsFilesOwnedByTheUser() throws {
        let dir = try Harness.temporaryDirectory("vol")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try cove(["run", "--rm", "--network", "none", "-v", "\(dir):/data", img, "sh", "-c", "echo hi > /data/f"])
        #expect(r.status == 0, "\(r.stderr)")
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/f")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.uint32Value == getuid())
        #expect(try String(contentsOfFile: dir + "/f", encoding: .utf8) == "hi\n")
        let ro = try cove(["run", "--rm", "--network", "none", "-v", "\(dir):/data:ro", img, "sh", "-c", "echo x > /data/g"])
        #expect(ro.status != 0)
        #expect(!FileManager.default.fileExists(atPath: dir + "/g"))
    }

    @Test func aReadOnlyRootStillHasWritableTmp() throws {
        let r = try cove(["run", "--rm", "--network", "none", "--read-only", img, "sh", "-c",
                          "touch /x 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-ok"])
        #expect(r.stdout == "tmp-ok\n", "\(r.stdout) \(r.stderr)")
    }

    /// podman's default capabilities, and the seccomp profile refusing what it should.
    @Test func defaultsAreAsPodmans() throws {
        let caps = try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "grep CapEff /proc/self/status"])
        let podmanCaps = try FrontFixture.podman(["run", "--rm", "--network=none", "--pull=never", img, "sh", "-c",
                                                  "grep CapEff /proc/self/status"])
        #expect(caps.stdout == podmanCaps.stdout && !caps.stdout.isEmpty, "\(caps.stdout) vs \(podmanCaps.stdout)")
        // unshare needs CAP_SYS_ADMIN: the profile refuses it with EPERM.
        let unshare = try cove(["run", "--rm", "--network", "none", img, "unshare", "-U", "true"])
        #expect(unshare.status != 0)
        let masked = try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "cat /proc/kcore | wc -c"])
        #expect(masked.stdout.trimmingCharacters(in: .whitespaces) == "0\n")
        let priv = try cove(["run", "--rm", "--network", "none", "--privileged", img, "unshare", "-U", "true"])
        #expect(priv.status == 0, "\(priv.stderr)")
    }
}

/// The default network (cove-net, started as the container's createRuntime
/// hook), podman's slirp4netns options, -p, and no helper left behind.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveNetworkTests {
    let img = FrontFixture.plain
    func cove(_ args: [String], timeout: Double = 60) throws -> Harness.Output { try FrontFixture.cove(args, timeout: timeout) }

    /// (comm, state, ppid) of a process, from /proc/PID/stat.
    static func stat(_ pid: String) -> (comm: String, state: Character, ppid: String)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        guard rest.count > 2, let state = rest[0].first else { return nil }
        return (String(text[text.index(after: open)..<close]), state, String(rest[1]))
    }

    /// The live cove-net processes (and their connectors) that are
    /// children of `parent`, a container's monitor; zombies hold nothing.
    static func coveNets(under parent: String) -> [String] {
        let procs = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { $0.allSatisfy(\.isNumber) }
        let nets = procs.filter { p in stat(p).map { $0.comm.hasPrefix("cove-net") && $0.ppid == parent && $0.state != "Z" } ?? false }
        let connectors = procs.filter { p in stat(p).map { nets.contains($0.ppid) && $0.state != "Z" } ?? false }
        return nets + connectors
    }

    static func alive(_ pid: String) -> Bool { stat(pid).map { $0.state != "Z" } ?? false }

    /// The container's init makes tap0 (with the MTU cove-net is given):
    /// without published ports cove-net has no process in the container's
    /// namespaces, no connector (see the -p test below for one).
    @Test func withoutPublishedPortsCoveNetHasNoConnector() throws {
        let name = "nc\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "--network", "slirp4netns:mtu=1500", img, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let link = try cove(["exec", name, "cat", "/sys/class/net/tap0/mtu"])
        #expect(link.stdout == "1500\n", "\(link.stderr)")
        let initPid = try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let monitor = try #require(Self.stat(initPid)?.ppid)
        let helpers = Self.coveNets(under: monitor)
        #expect(helpers.count == 1 && helpers.allSatisfy { Self.stat($0)?.comm == "cove-net" }, "\(helpers)")
        // Attached, the early start makes tap0 before the config is read,
        // with the default MTU, and sets the one asked for after.
        let plain = try cove(["run", "--rm", img, "cat", "/sys/class/net/tap0/mtu"])
        #expect(plain.stdout == "65520\n", "\(plain.stderr)")
        let small = try cove(["run", "--rm", "--network", "slirp4netns:mtu=1500", img, "cat", "/sys/class/net/tap0/mtu"])
        #expect(small.stdout == "1500\n", "\(small.stderr)")
    }

    @Test func theDefaultNetworkIsSlirpWithDNSAt10_0_2_3() throws {
        let r = try cove(["run", "--rm", img, "sh", "-c", "ip -4 addr show tap0; cat /etc/resolv.conf; ip route"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("inet 10.0.2.100/24"))
        #expect(r.stdout.contains("nameserver 10.0.2.3"))
        #expect(r.stdout.contains("default via 10.0.2.2"))
    }

    @Test func hostLoopbackOnlyWhenAllowed() throws {
        let server = try LoopbackServer()
        defer { server.stop() }
        let url = "http://10.0.2.2:\(server.port)/"
        // (Debian's busybox wget crashes with -T: busybox's timeout bounds it instead.)
        let allowed = try cove(["run", "--rm", "--network", "slirp4netns:allow_host_loopback=true", img,
                                "timeout", "10", "wget", "-q", "-O-", url])
        #expect(allowed.status == 0 && allowed.stdout == "hello from the host\n", "\(allowed.stderr)")
        let refused = try cove(["run", "--rm", img, "timeout", "5", "wget", "-q", "-O-", url])
        #expect(refused.status != 0)
        let none = try cove(["run", "--rm", "--network", "none", img, "sh", "-c", "ls /sys/class/net"])
        #expect(none.stdout == "lo\n", "\(none.stdout) \(none.stderr)")
    }

    @Test func aPublishedPortReachesTheContainerAndEndsWithIt() throws {
        let port = try LoopbackServer.freePort()
        let name = "p\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "-p", "127.0.0.1:\(port):80", img, "httpd", "-f", "-p", "80", "-h", "/etc"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        var body = ""
        for _ in 0..<50 {
            let get = try Harness.run("/usr/bin/python3", ["-c", """
                import urllib.request,sys
                try: print(urllib.request.urlopen("http://127.0.0.1:\(port)/hostname", timeout=3).read().decode(), end="")
                except Exception as e: sys.exit(1)
                """], timeout: 10)
            body = get.stdout
            if get.status == 0 { break }
            usleep(100_000)
        }
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout
        #expect(body == String(id.prefix(12)) + "\n")
        #expect(try cove(["ps", "--format", "{{.Ports}}"]).stdout.contains("127.0.0.1:\(port):80"))
        // The container's cove-net and its connector: children of its monitor.
        let initPid = try cove(["inspect", "-f", "{{.State.Pid}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let monitor = try #require(Self.stat(initPid)?.ppid)
        let helpers = Self.coveNets(under: monitor)
        #expect(helpers.count == 2, "cove-net and its connector: \(helpers)")
        #expect(try cove(["rm", "-f", name]).status == 0)
        #expect(helpers.allSatisfy { !Self.alive($0) }, "left behind: \(helpers.filter(Self.alive))")
    }
}

/// A one-shot HTTP server on 127.0.0.1 (python3), for containers to reach.
final class LoopbackServer {
    let port: Int
    let pid: pid_t
    let dir: String

    init() throws {
        dir = try Harness.temporaryDirectory("srv")
        try "hello from the host\n".write(toFile: dir + "/index.html", atomically: true, encoding: .utf8)
        port = try Self.freePort()
        pid = try Harness.spawn("/usr/bin/python3", ["-m", "http.server", "--bind", "127.0.0.1", "\(port)"], cwd: dir,
                                stdout: dir + "/out", stderr: dir + "/err")
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET); a.sin_port = in_port_t(UInt16(port).bigEndian)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
            close(fd)
            if ok { return }
            usleep(50_000)
        }
        throw Harness.SetupFailure(description: "python3 http.server did not listen on \(port)")
    }

    func stop() {
        kill(pid, SIGKILL)
        var st: Int32 = 0
        waitpid(pid, &st, 0)
        try? FileManager.default.removeItem(atPath: dir)
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET); a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 } }
        guard ok else { throw Harness.SetupFailure(description: "no free port") }
        return Int(UInt16(bigEndian: a.sin_port))
    }
}

/// --init, top, port, logs -f, restart, and records that outlive the runroot.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveMoreVerbsTests {
    let img = FrontFixture.plain
    func cove(_ args: [String], timeout: Double = 60) throws -> Harness.Output { try FrontFixture.cove(args, timeout: timeout) }

    /// With --init, PID 1 is cove's init; the command is its child, gets the
    /// stop signal and its exit code comes through; orphans are reaped.
    @Test func initReapsForwardsAndPassesTheExitCode() throws {
        let r = try cove(["run", "--rm", "--init", "--network", "none", img, "sh", "-c",
                          "cat /proc/1/cmdline | tr '\\0' ' '; echo; (sleep 0.1 &); sleep 0.3; ps -o stat | grep -c Z; exit 5"])
        #expect(r.status == 5, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "/dev/init -- sh -c cat /proc/1/cmdline | tr '\\0' ' '; echo; (sleep 0.1 &); sleep 0.3; ps -o stat | grep -c Z; exit 5 ")
        #expect(lines.last == "0", "a zombie was left: \(r.stdout)")
        let name = "i\(getpid())"
        #expect(try cove(["run", "-d", "--init", "--name", name, "--network", "none", img, "sh", "-c",
                          "trap 'exit 9' TERM; while :; do sleep 0.1; done"]).status == 0)
        defer { _ = try? cove(["rm", "-f", name]) }
        #expect(try cove(["stop", "-t", "5", name]).status == 0)
        #expect(try cove(["inspect", "-f", "{{.State.ExitCode}}", name]).stdout == "9\n")
        let missing = try cove(["run", "--rm", "--init", "--network", "none", img, "no-such-thing"])
        #expect(missing.status == 127, "\(missing.stderr)")
    }

    @Test func topPortAndFollowedLogs() throws {
        let name = "v\(getpid())"
        let port = try LoopbackServer.freePort()
        let run = try cove(["run", "-d", "--name", name, "-p", "127.0.0.1:\(port):80", img, "sh", "-c",
                            "for i in 1 2 3; do echo tick $i; sleep 0.2; done; sleep 300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let top = try cove(["top", name])
        #expect(top.status == 0 && top.stdout.contains("sleep"), "\(top.stdout) \(top.stderr)")
        #expect(try cove(["port", name]).stdout == "80/tcp -> 127.0.0.1:\(port)\n")
        #expect(try cove(["port", name, "80"]).stdout == "127.0.0.1:\(port)\n")
        // -f follows until the container stops: stop it a moment later.
        let stopper = try Harness.spawn(Harness.binary("cove"), ["--root", FrontFixture.root,
                                        "--runroot", try FrontFixture.prepared.get().runroot, "stop", "-t", "1", name])
        let logs = try cove(["logs", "-f", name], timeout: 30)
        _ = try Harness.finish(stopper, timeout: 30)
        #expect(logs.stdout == "tick 1\ntick 2\ntick 3\n", "\(logs)")
        let stamped = try cove(["logs", "-t", "--tail", "1", name])
        #expect(stamped.stdout.hasSuffix("Z tick 3\n"), "\(stamped.stdout)")
        #expect(try cove(["restart", "-t", "1", name]).status == 0)
        #expect(try cove(["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name]).stdout == "running 1\n")
    }

    /// Without a delegated cgroup v2 subtree (as on this host) limits are
    /// one warning and the container runs; with one they would apply.
    @Test func resourceLimitsWithoutADelegatedCgroupAreOneWarning() throws {
        let r = try cove(["run", "--rm", "--network", "none", "--memory", "64m", "--cpus", "1.5", "--pids-limit", "100",
                          img, "echo", "ran"])
        #expect(r.status == 0 && r.stdout == "ran\n", "\(r.stderr)")
        let delegated = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers")
        if !delegated {
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("warning"), "\(r.stderr)")
        }
        let bad = try cove(["run", "--rm", "--network", "none", "--memory", "lots", img, "true"])
        #expect(bad.status == 125 && bad.stderr.contains("--memory"), "\(bad.stderr)")
    }

    /// --log-opt max-size: the log rotates; `cove logs` reads the rotated
    /// part then the current one, so the newest lines are all there.
    @Test func logsRotateAtMaxSize() throws {
        let name = "g\(getpid())"
        let run = try cove(["run", "-d", "--name", name, "--network", "none", "--log-opt", "max-size=4k", img, "sh", "-c",
                            "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        #expect(try cove(["wait", name]).stdout == "0\n")
        let logPath = try cove(["inspect", "-f", "{{.LogPath}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(FileManager.default.fileExists(atPath: logPath + ".1"))
        let size = (try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size <= 4096)
        let lines = try cove(["logs", name]).stdout.split(separator: "\n")
        #expect(lines.last == "line-199")
        #expect(lines.count < 200 && lines.count > 20, "\(lines.count) lines kept")
        // Each kept line follows the one before it: nothing lost in between.
        let numbers = lines.compactMap { Int($0.dropFirst(5)) }
        #expect(numbers == Array((200 - numbers.count)..<200))
        let bad = try cove(["run", "--rm", "--log-opt", "mode=non-blocking", img, "true"])
        #expect(bad.status == 125, "\(bad.stderr)")
    }

    /// cp both ways with a running container; a symlink inside pointing at
    /// the host's /etc stays inside the container's root.
    @Test func cpCopiesBothWaysAndStaysInTheContainersRoot() throws {
        let name = "c\(getpid())"
        #expect(try cove(["run", "-d", "--name", name, "--network", "none", img, "sh", "-c",
                          "mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -s a /data/link && "
                          + "ln -s /etc /escape && echo mine > /etc/only-inside && sleep 300"]).status == 0)
        defer { _ = try? cove(["rm", "-f", name]) }
        let dir = try Harness.temporaryDirectory("cp")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for _ in 0..<100 where try cove(["exec", name, "test", "-e", "/escape"]).status != 0 { usleep(50_000) }
        let out = try cove(["cp", "\(name):/data", dir])
        #expect(out.status == 0, "\(out.stderr)")
        #expect(try String(contentsOfFile: dir + "/data/a", encoding: .utf8) == "one\n")
        #expect(try String(contentsOfFile: dir + "/data/sub/b", encoding: .utf8) == "two\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/data/link") == "a")
        // /escape -> /etc resolves to the container's /etc, not the host's.
        let esc = try cove(["cp", "\(name):/escape/only-inside", dir + "/got"])
        #expect(esc.status == 0, "\(esc.stderr)")
        #expect(try String(contentsOfFile: dir + "/got", encoding: .utf8) == "mine\n")
        try "in\n".write(toFile: dir + "/in.txt", atomically: true, encoding: .utf8)
        #expect(try cove(["cp", dir + "/in.txt", "\(name):/escape/"]).status == 0)
        #expect(try cove(["exec", name, "cat", "/etc/in.txt"]).stdout == "in\n")
        #expect(!FileManager.default.fileExists(atPath: "/etc/in.txt"))
        let missing = try cove(["cp", "\(name):/nope", dir])
        #expect(missing.status == 125 && missing.stderr.contains("/nope"), "\(missing.stderr)")
    }

    /// -i gives the container our stdin; without it the container reads EOF.
    /// -d --rm: the monitor removes the container once it ends.
    @Test func stdinOnlyWithDashIAndDetachedRemoveOnExit() throws {
        let dir = try Harness.temporaryDirectory("stdin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "typed\n".write(toFile: dir + "/in", atomically: true, encoding: .utf8)
        let s = try FrontFixture.prepared.get()
        let base = "\(Harness.binary("cove")) --root \(s.root) --runroot \(s.runroot) run --rm --network none \(img)"
        let without = try Harness.run("/bin/sh", ["-c", "\(base) cat < \(dir)/in"], timeout: 60)
        #expect(without.status == 0 && without.stdout == "", "\(without)")
        let with = try Harness.run("/bin/sh", ["-c", "\(base.replacingOccurrences(of: " run ", with: " run -i ")) cat < \(dir)/in"],
                                   timeout: 60)
        #expect(with.status == 0 && with.stdout == "typed\n", "\(with)")
        let name = "a\(getpid())"
        #expect(try cove(["run", "-d", "--rm", "--name", name, "--network", "none", img, "sleep", "0.2"]).status == 0)
        var gone = false
        for _ in 0..<200 {
            if try cove(["inspect", name]).status != 0 { gone = true; break }
            usleep(50_000)
        }
        #expect(gone, "a -d --rm container was still there after it ended")
        #expect(try cove(["run", "--rm", "--pull=newer", img, "true"]).status == 125)
    }

    /// A foreground `cove run` passes on a SIGTERM sent to it (a
    /// supervisor's stop) and exits with the container's code.
    @Test func aForegroundRunPassesOnSignals() throws {
        let name = "s\(getpid())"
        let s = try FrontFixture.prepared.get()
        let pid = try Harness.spawn(Harness.binary("cove"), ["--root", s.root, "--runroot", s.runroot, "run", "--rm",
                                    "--name", name, "--network", "none", img, "sh", "-c",
                                    "trap 'exit 9' TERM; touch /tmp/ready; while :; do sleep 0.1; done"])
        for _ in 0..<200 where try cove(["exec", name, "test", "-e", "/tmp/ready"]).status != 0 { usleep(50_000) }
        kill(pid, SIGTERM)
        #expect(try Harness.finish(pid, timeout: 30) == 9)
        #expect(try cove(["inspect", name]).status != 0, "--rm removed it")
    }

    /// After a reboot the runroot is gone: records stay, their containers
    /// count as exited, and rm works.
    @Test func recordsSurviveALostRunroot() throws {
        let dir = try Harness.temporaryDirectory("reboot")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let s = try FrontFixture.prepared.get()
        func cove2(_ args: [String]) throws -> Harness.Output {
            try Harness.run(Harness.binary("cove"), ["--root", s.root, "--runroot", dir + "/run"] + args, timeout: 60)
        }
        let name = "r\(getpid())"
        #expect(try cove2(["run", "-d", "--name", name, "--network", "none", img, "sleep", "300"]).status == 0)
        // What a reboot does: the processes end and the runroot tmpfs is gone.
        #expect(try cove2(["kill", name]).status == 0)
        _ = try cove2(["wait", name])
        _ = try Harness.run("/bin/rm", ["-rf", dir + "/run"])
        let ps = try cove2(["ps", "-a", "--format", "{{.Names}} {{.State}}"])
        #expect(ps.stdout.split(separator: "\n").contains("\(name) exited"), "\(ps.stdout)")
        #expect(try cove2(["start", name]).status == 0)
        #expect(try cove2(["rm", "-f", name]).status == 0)
    }
}
