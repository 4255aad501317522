import Foundation
import Testing

/// create → start → kill → delete, and the errors between them.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeLifecycleTests {
    @Test func statesAreWalkedInOrder() throws {
        let b = try Bundle()
        let marker = b.dir + "/started"
        let host = b.dir
        b.mounts.append(["destination": "/host", "type": "bind", "source": host, "options": ["rbind"]])
        b.setArgs(["sh", "-c", "touch /host/started; exec sleep 60"])
        let pidFile = b.dir + "/pid"
        let c = try b.runtime(["create", "--bundle", b.dir, "--pid-file", pidFile, "c1"])
        #expect(c.status == 0, "\(c.stderr)")
        let created = try #require(try b.state("c1"))
        #expect(created["status"] as? String == "created")
        #expect(created["id"] as? String == "c1")
        #expect(created["bundle"] as? String == b.dir)
        let pid = try #require(created["pid"] as? Int)
        #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == String(pid))
        #expect(kill(pid_t(pid), 0) == 0)
        // The process has not run before start.
        usleep(100_000)
        #expect(!FileManager.default.fileExists(atPath: marker))

        #expect(try b.runtime(["start", "c1"]).status == 0)
        #expect(try b.state("c1")?["status"] as? String == "running")
        var waited = 0
        while !FileManager.default.fileExists(atPath: marker) && waited < 500 { usleep(10_000); waited += 1 }
        #expect(FileManager.default.fileExists(atPath: marker))

        let second = try b.runtime(["start", "c1"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("running"))

        let busy = try b.runtime(["delete", "c1"])
        #expect(busy.status != 0, "delete of a running container must fail")

        #expect(try b.runtime(["kill", "c1", "KILL"]).status == 0)
        waited = 0
        while try b.state("c1")?["status"] as? String != "stopped" && waited < 500 { usleep(10_000); waited += 1 }
        #expect(try b.state("c1")?["status"] as? String == "stopped")

        let killStopped = try b.runtime(["kill", "c1", "TERM"])
        #expect(killStopped.status != 0)
        #expect(killStopped.stderr.contains("stopped"))

        #expect(try b.runtime(["delete", "c1"]).status == 0)
        let gone = try b.runtime(["state", "c1"])
        #expect(gone.status != 0)
        #expect(gone.stderr.contains("does not exist"))
    }

    @Test func killAcceptsNumbersAndNamesAndDeleteForceStopsARunningContainer() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        #expect(try b.runtime(["create", "--bundle", b.dir, "k1"]).status == 0)
        #expect(try b.runtime(["start", "k1"]).status == 0)
        #expect(try b.runtime(["kill", "k1", "0"]).status == 0)
        #expect(try b.runtime(["kill", "k1", "SIGCONT"]).status == 0)
        let bad = try b.runtime(["kill", "k1", "NOSUCHSIG"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("unknown signal"))
        let pid = try #require(try b.state("k1")?["pid"] as? Int)
        #expect(try b.runtime(["delete", "--force", "k1"]).status == 0)
        #expect(kill(pid_t(pid), 0) != 0 || Self.isZombie(pid))
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)
    }

    @Test func aCreatedContainerCanBeDeletedWithForceWithoutEverRunning() throws {
        let b = try Bundle()
        b.setArgs(["sh", "-c", "touch /tmp/ran"])
        b.config["root"] = ["path": "rootfs", "readonly": false]
        #expect(try b.runtime(["create", "--bundle", b.dir, "d1"]).status == 0)
        #expect(try b.runtime(["delete", "--force", "d1"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: b.dir + "/rootfs/tmp/ran"))
    }

    @Test func listShowsContainersAsTableAndJSON() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        #expect(try b.runtime(["create", "--bundle", b.dir, "l1"]).status == 0)
        defer { _ = try? b.runtime(["delete", "--force", "l1"]) }
        let table = try b.runtime(["list"])
        #expect(table.stdout.hasPrefix("ID"))
        #expect(table.stdout.contains("l1"))
        #expect(table.stdout.contains("created"))
        let json = try b.runtime(["list", "--format", "json"])
        let items = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(items?.first?["id"] as? String == "l1")
    }

    @Test func aDuplicateIdIsRefusedAndLeavesTheFirstAlone() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        #expect(try b.runtime(["create", "--bundle", b.dir, "dup"]).status == 0)
        defer { _ = try? b.runtime(["delete", "--force", "dup"]) }
        let again = try b.runtime(["create", "--bundle", b.dir, "dup"])
        #expect(again.status != 0)
        #expect(again.stderr.contains("already exists"))
        #expect(try b.state("dup")?["status"] as? String == "created")
    }

    @Test func runDetachLeavesTheContainerRunning() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        let r = try b.runtime(["run", "--detach", "--bundle", b.dir, "bg"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try b.state("bg")?["status"] as? String == "running")
        #expect(try b.runtime(["delete", "--force", "bg"]).status == 0)
    }

    static func isZombie(_ pid: Int) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }
}

/// Bad input: one line saying what failed, and a non-zero exit.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeErrorTests {
    @Test func aMissingProgramFailsCreateWithTheWordsPodmanMaps() throws {
        let b = try Bundle()
        b.setArgs(["no-such-program"])
        let r = try b.runtime(["create", "--bundle", b.dir, "e1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("executable file not found in $PATH"))
        #expect(r.stderr.split(separator: "\n").count == 1)
        // A failed create leaves nothing behind.
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)
    }

    @Test func runExitsLikeAShellWhenTheProgramCannotRun() throws {
        let b = try Bundle()
        b.setArgs(["no-such-program"])
        #expect(try b.runtime(["run", "--bundle", b.dir, "n1"]).status == 127)
        b.setArgs(["/etc/passwd"])
        #expect(try b.runtime(["run", "--bundle", b.dir, "n2"]).status == 126)
        b.setArgs(["/etc"])
        #expect(try b.runtime(["run", "--bundle", b.dir, "n3"]).status == 126)
    }

    @Test func aBrokenConfigNamesTheField() throws {
        let b = try Bundle()
        b.process["cwd"] = "relative/dir"
        let r = try b.runtime(["run", "--bundle", b.dir, "e2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("process.cwd"))
        b.process["cwd"] = "/"
        b.config["ociVersion"] = "2.0.0"
        let v = try b.runtime(["run", "--bundle", b.dir, "e3"])
        #expect(v.status != 0)
        #expect(v.stderr.contains("ociVersion"))
    }

    @Test func aMissingBundleIsOneClearLine() throws {
        let r = try Harness.run(Harness.binary("cove-unshare"), ["--root", NSTemporaryDirectory() + "/cove-none",
                                                                 "run", "--bundle", "/nonexistent/bundle", "x"])
        #expect(r.status != 0)
        #expect(r.stderr == "cove-unshare: cannot read /nonexistent/bundle/config.json: No such file or directory\n")
    }

    @Test func unknownCommandsAndOptionsAreRefused() throws {
        let cmd = try Harness.run(Harness.binary("cove-unshare"), ["frobnicate"])
        #expect(cmd.status != 0)
        #expect(cmd.stderr.contains("unknown command frobnicate"))
        let opt = try Harness.run(Harness.binary("cove-unshare"), ["create", "--bogus", "x"])
        #expect(opt.status != 0)
        #expect(opt.stderr.contains("unknown option --bogus"))
    }

    @Test func anUnmappedUserIsReportedAsSuch() throws {
        let b = try Bundle()
        b.process["user"] = ["uid": 4242, "gid": 4242]
        let r = try b.sh("id")
        #expect(r.status != 0)
        #expect(r.stderr.contains("not mapped"))
    }

    @Test func featuresDescribesTheRuntime() throws {
        let r = try Harness.run(Harness.binary("cove-unshare"), ["features"])
        #expect(r.status == 0)
        let j = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(j?["ociVersionMax"] as? String == "1.3.0")
        let ns = (j?["linux"] as? [String: Any])?["namespaces"] as? [String]
        #expect(ns?.contains("user") == true)
    }
}

/// `--monitor`: the container's exit status is collected without podman.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeMonitorTests {
    func exitRecord(_ b: Bundle, _ id: String) throws -> [String: Any]? {
        let path = b.stateRoot + "/\(id)/exit.json"
        for _ in 0..<1000 where !FileManager.default.fileExists(atPath: path) { usleep(10_000) }
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    @Test func aMonitoredContainerRecordsItsExitCode() throws {
        let b = try Bundle()
        b.setArgs(["sh", "-c", "exit 7"])
        let c = try b.runtime(["create", "--monitor", "--bundle", b.dir, "m1"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(try b.state("m1")?["status"] as? String == "created")
        #expect(try b.runtime(["start", "m1"]).status == 0)
        let record = try #require(try exitRecord(b, "m1"))
        #expect(record["exitCode"] as? Int == 7)
        #expect(record["exitedAt"] is String)
        #expect(try b.state("m1")?["status"] as? String == "stopped")
        #expect(try b.runtime(["delete", "m1"]).status == 0)
    }

    @Test func aKilledDetachedContainerRecordsTheSignal() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        #expect(try b.runtime(["run", "--detach", "--monitor", "--bundle", b.dir, "m2"]).status == 0)
        #expect(try b.runtime(["kill", "m2", "KILL"]).status == 0)
        #expect(try exitRecord(b, "m2")?["exitCode"] as? Int == 137)
        #expect(try b.runtime(["delete", "m2"]).status == 0)
    }

    @Test func theMonitorWritesAJSONFileLogAndRotatesIt() throws {
        let b = try Bundle()
        // 40 lines of 50 bytes on stdout, one line on stderr; rotation at 2000 bytes.
        b.setArgs(["sh", "-c", "i=0; while [ $i -lt 40 ]; do echo line-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; i=$((i+1)); done; echo oops >&2; printf partial"])
        let log = b.dir + "/ctr.log"
        let r = try b.runtime(["run", "--detach", "--monitor", "--output-log", log, "--output-log-max", "2000",
                               "--bundle", b.dir, "m4"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try exitRecord(b, "m4")?["exitCode"] as? Int == 0)
        let rotated = try String(contentsOfFile: log + ".1", encoding: .utf8)
        let current = try String(contentsOfFile: log, encoding: .utf8)
        #expect(rotated.utf8.count <= 2000 && current.utf8.count <= 2000)
        let records = (rotated + current).split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
        }
        // The newest lines survive: the last stdout line, the stderr line, the unterminated tail.
        #expect(records.last?["log"] == "partial" && records.last?["stream"] == "stdout")
        #expect(records.contains { $0["log"] == "oops\n" && $0["stream"] == "stderr" })
        #expect(records.contains { $0["log"] == "line-39-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" })
        #expect(records.allSatisfy { ($0["time"] ?? "").hasSuffix("Z") })
        #expect(try b.runtime(["delete", "m4"]).status == 0)
    }

    @Test func monitorNeedsDetachForRun() throws {
        let b = try Bundle()
        let r = try b.runtime(["run", "--monitor", "--bundle", b.dir, "m3"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--detach"))
    }
}

extension RuntimeLifecycleTests {
    @Test func runKeepLeavesAStoppedContainerToDelete() throws {
        let b = try Bundle()
        b.setArgs(["true"])
        #expect(try b.runtime(["run", "--keep", "--bundle", b.dir, "kept"]).status == 0)
        #expect(try b.state("kept")?["status"] as? String == "stopped")
        #expect(try b.runtime(["delete", "kept"]).status == 0)
    }
}

extension RuntimeLifecycleTests {
    /// A pod's pattern: a second container joins the first's user, UTS,
    /// IPC and network namespaces by path and has its own mount and PID.
    @Test func namespacesGivenByPathAreJoined() throws {
        let a = try Bundle()
        a.config["hostname"] = "pod-\(getpid())"
        a.setArgs(["sleep", "60"])
        #expect(try a.runtime(["run", "--detach", "--bundle", a.dir, "pod-a"]).status == 0)
        defer { _ = try? a.runtime(["delete", "--force", "pod-a"]) }
        let pid = try #require(try a.state("pod-a")?["pid"] as? Int)
        let b = try Bundle()
        b.config["hostname"] = nil
        b.linux["uidMappings"] = nil
        b.linux["gidMappings"] = nil
        b.linux["namespaces"] = [
            ["type": "user", "path": "/proc/\(pid)/ns/user"], ["type": "uts", "path": "/proc/\(pid)/ns/uts"],
            ["type": "ipc", "path": "/proc/\(pid)/ns/ipc"], ["type": "network", "path": "/proc/\(pid)/ns/net"],
            ["type": "mount"], ["type": "pid"],
        ]
        let r = try b.sh("hostname; readlink /proc/self/ns/net; echo $$")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let theirs = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/net")
        #expect(lines == ["pod-\(getpid())", theirs, "1"])
    }
}
