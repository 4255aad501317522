import Foundation
import Testing

/// `exec`: another process in a running container, in all its namespaces
/// and under its confinement.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeExecTests {
    /// A detached container whose init marks a tmpfs and sleeps.
    func running(_ id: String, configure: (Bundle) -> Void = { _ in }) throws -> Bundle {
        let b = try Bundle()
        b.mounts.append(["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]])
        b.setArgs(["sh", "-c", "echo init-was-here > /scratch/m; exec sleep 60"])
        configure(b)
        let r = try b.runtime(["run", "--detach", "--bundle", b.dir, id])
        #expect(r.status == 0, "\(r.stderr)")
        for _ in 0..<300 {
            if try b.runtime(["exec", id, "test", "-e", "/scratch/m"]).status == 0 { break }
            usleep(10_000)
        }
        return b
    }

    @Test func execSeesTheContainersPidNamespaceAndMounts() throws {
        let b = try running("x1")
        defer { _ = try? b.runtime(["delete", "--force", "x1"]) }
        let r = try b.runtime(["exec", "x1", "sh", "-c", "cat /scratch/m; cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$; hostname; exit 9"])
        #expect(r.status == 9, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "init-was-here")
        #expect(lines.dropFirst().first == "sleep 60 ")
        // Not PID 1, but a small number in the container's own namespace.
        #expect((Int(lines.dropFirst(2).first ?? "") ?? 0) > 1)
        #expect((Int(lines.dropFirst(2).first ?? "") ?? 99999) < 100)
        #expect(lines.dropFirst(3).first == "cove")
    }

    @Test func envCwdAndUserOptionsApply() throws {
        let b = try running("x2")
        defer { _ = try? b.runtime(["delete", "--force", "x2"]) }
        let r = try b.runtime(["exec", "--env", "EXTRA=yes", "-e", "PATH=/bin", "--cwd", "/scratch", "--user", "0:0",
                               "x2", "sh", "-c", "echo $EXTRA $PATH $(pwd) $(id -u)"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "yes /bin /scratch 0\n")
    }

    @Test func aProcessFileIsUsedAsGiven() throws {
        let b = try running("x3")
        defer { _ = try? b.runtime(["delete", "--force", "x3"]) }
        let process: [String: Any] = ["args": ["sh", "-c", "echo from-file $GREETING; pwd"], "cwd": "/scratch",
                                      "env": ["PATH=/bin", "GREETING=hello"], "user": ["uid": 0, "gid": 0]]
        try JSONSerialization.data(withJSONObject: process).write(to: URL(fileURLWithPath: b.dir + "/process.json"))
        let r = try b.runtime(["exec", "--process", b.dir + "/process.json", "x3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "from-file hello\n/scratch\n")
    }

    @Test func detachedExecWritesItsPidAndRunsInTheContainer() throws {
        let b = try running("x4")
        defer { _ = try? b.runtime(["delete", "--force", "x4"]) }
        let pidFile = b.dir + "/exec.pid"
        let r = try b.runtime(["exec", "--detach", "--pid-file", pidFile, "x4", "sleep", "30"])
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8)))
        let initPid = try #require(try b.state("x4")?["pid"] as? Int)
        let ns = { (p: Int) in try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(p)/ns/pid") }
        #expect(ns(Int(pid)) != nil)
        #expect(ns(Int(pid)) == ns(initPid))
        let ps = try b.runtime(["ps", "--format", "json", "x4"])
        let pids = try JSONSerialization.jsonObject(with: Data(ps.stdout.utf8)) as? [Int]
        #expect(pids?.contains(Int(pid)) == true)
        #expect(pids?.contains(initPid) == true)
    }

    @Test func execIsConfinedLikeInit() throws {
        let b = try running("x5") { b in
            b.process["noNewPrivileges"] = true
            b.process["capabilities"] = ["bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]]
            b.linux["seccomp"] = ["defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                ["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1]]]
        }
        defer { _ = try? b.runtime(["delete", "--force", "x5"]) }
        let r = try b.runtime(["exec", "x5", "sh", "-c", "grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; mkdir /scratch/d 2>&1 || true"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("CapBnd:\t0000000000000020"))
        #expect(r.stdout.contains("NoNewPrivs:\t1"))
        #expect(r.stdout.contains("Seccomp:\t2"))
        #expect(r.stdout.contains("Operation not permitted"))
        // --cap adds to every set.
        let added = try b.runtime(["exec", "--cap", "CAP_CHOWN", "x5", "grep", "CapBnd", "/proc/self/status"])
        #expect(added.stdout.contains("0000000000000021"))
    }

    @Test func execWithATerminalRelaysIt() throws {
        let b = try running("x6")
        defer { _ = try? b.runtime(["delete", "--force", "x6"]) }
        let cmd = "exec \(Harness.binary("cove-unshare")) --root \(b.stateRoot) exec --tty x6 sh -c 'test -t 0 && tty; exit 5'"
        let r = try Harness.run("/usr/bin/script", ["-qec", cmd, "/dev/null"], cwd: b.dir)
        #expect(r.status == 5, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("/dev/pts/"))
    }

    @Test func execIntoAStoppedOrMissingContainerFails() throws {
        let b = try Bundle()
        b.setArgs(["true"])
        #expect(try b.runtime(["run", "--detach", "--bundle", b.dir, "x7"]).status == 0)
        try b.waitForStatus("x7", "stopped")
        let r = try b.runtime(["exec", "x7", "true"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("not running"))
        let missing = try b.runtime(["exec", "nope", "true"])
        #expect(missing.stderr.contains("does not exist"))
        let notFound = try running("x8")
        defer { _ = try? notFound.runtime(["delete", "--force", "x8"]) }
        #expect(try notFound.runtime(["exec", "x8", "no-such-program"]).status == 127)
    }
}

extension PodmanTests {
    @Test func execAndExecWithATerminal() throws {
        let name = "cove-it-\(getpid())-x"
        let run = try podman(["run", "-d", "--pull=never", "--network=none", "--name", name, Self.image, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? podman(["rm", "-f", "-t", "0", name]) }
        let e = try podman(["exec", name, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; exit 3"])
        #expect(e.status == 3, "\(e.stderr)")
        #expect(e.stdout == "sleep 300 ")
        let cmd = "podman --runtime \(Harness.binary("cove-unshare")) exec -it \(name) sh -c 'tty; exit 4'"
        let t = try Harness.run("/usr/bin/script", ["-qec", cmd, "/dev/null"], timeout: 120)
        #expect(t.status == 4, "\(t.stdout) \(t.stderr)")
        #expect(t.stdout.contains("/dev/pts/"))
    }
}
