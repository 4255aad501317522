import Foundation
import Testing

/// cove-unshare as a user runs it: `run` of a busybox bundle, checked from
/// inside the container.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeRunTests {
    @Test func runPrintsOutputAndReturnsTheExitCode() throws {
        let b = try Bundle()
        let r = try b.sh("echo hello from inside; exit 7")
        #expect(r.stdout == "hello from inside\n")
        #expect(r.status == 7)
        // `run` without --detach removes the container afterwards.
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)
    }

    /// `run --early-fd FD` (how `cove run` starts it): the namespaces and
    /// maps are made before the bundle is complete, and their first process
    /// is the container's init, PID 1. A config of another shape (here no
    /// PID namespace) is refused in one line and leaves nothing behind.
    @Test func anEarlyStartRunsInitAsPIDOneAndRefusesAnotherShape() throws {
        let b = try Bundle()
        var ns = b.linux["namespaces"] as? [[String: Any]] ?? []
        for kind in ["network", "ipc"] where !ns.contains(where: { $0["type"] as? String == kind }) { ns.append(["type": kind]) }
        b.linux["namespaces"] = ns
        // The default maps (own id and the subordinate range), as cove's configs leave them.
        b.linux["uidMappings"] = nil
        b.linux["gidMappings"] = nil
        b.setArgs(["sh", "-c", "echo $$"])
        let ok = try earlyRun(b, "early1")
        #expect(ok.status == 0 && ok.stdout == "1\n", "\(ok.stdout)\(ok.stderr)")
        b.linux["namespaces"] = ns.filter { $0["type"] as? String != "pid" }
        let refused = try earlyRun(b, "early2")
        #expect(refused.status == 1 && refused.stderr.contains("--early-fd needs")
                && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)
    }

    /// Writes the config, starts `cove-unshare run --early-fd`, then says
    /// "bundle!" on the channel, as the front does.
    private func earlyRun(_ b: Bundle, _ id: String) throws -> Harness.Output {
        let data = try JSONSerialization.data(withJSONObject: b.config, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: b.dir + "/config.json"), options: .atomic)
        let driver = """
            import socket, subprocess, sys
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            p = subprocess.Popen([sys.argv[1], "--root", sys.argv[2], "run", "--bundle", sys.argv[3],
                                  "--early-fd", str(theirs.fileno()), sys.argv[4]], pass_fds=[theirs.fileno()])
            theirs.close()
            ours.send(b"bundle!")
            sys.exit(p.wait(timeout=50))
            """
        return try Harness.run("/usr/bin/python3", ["-c", driver, Harness.binary("cove-unshare"), b.stateRoot, b.dir, id],
                               cwd: b.dir)
    }

    @Test func aKilledInitReportsOneHundredTwentyEightPlusTheSignal() throws {
        let b = try Bundle()
        b.setArgs(["sleep", "60"])
        let run = try b.startInBackground(["run", "--bundle", b.dir, "sig"])
        try b.waitForStatus("sig", "running")
        #expect(try b.runtime(["kill", "sig", "KILL"]).status == 0)
        #expect(try Harness.finish(run, timeout: 20) == 137)
    }

    @Test func signalsToTheForegroundRuntimeReachTheContainer() throws {
        let b = try Bundle()
        b.setArgs(["sh", "-c", "trap 'exit 3' TERM; echo up; while true; do sleep 0.05; done"])
        let run = try b.startInBackground(["run", "--bundle", b.dir, "fwd"])
        try b.waitForStatus("fwd", "running")
        usleep(200_000)   // let the shell install its trap
        kill(run, SIGTERM)
        #expect(try Harness.finish(run, timeout: 20) == 3)
    }

    @Test func rootInsideIsTheUserOutside() throws {
        let b = try Bundle()
        let shared = try Harness.temporaryDirectory("shared")
        defer { try? FileManager.default.removeItem(atPath: shared) }
        b.mounts.append(["destination": "/shared", "type": "bind", "source": shared, "options": ["rbind", "rw"]])
        let r = try b.sh("id -u; head -n1 /proc/self/uid_map; touch /shared/made-inside")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "0")
        let map = lines.dropFirst().first?.split(separator: " ").map(String.init) ?? []
        #expect(map == ["0", String(getuid()), "1"])
        let attrs = try FileManager.default.attributesOfItem(atPath: shared + "/made-inside")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.uint32Value == getuid())
    }

    @Test func aFullSubordinateRangeIsMapped() throws {
        let range = try #require(Harness.subordinateRange("/etc/subuid"), "no /etc/subuid range for \(Harness.userName)")
        let grange = try #require(Harness.subordinateRange("/etc/subgid"), "no /etc/subgid range for \(Harness.userName)")
        let b = try Bundle()
        b.linux["uidMappings"] = [["containerID": 0, "hostID": getuid(), "size": 1],
                                  ["containerID": 1, "hostID": range.start, "size": range.count]]
        b.linux["gidMappings"] = [["containerID": 0, "hostID": getgid(), "size": 1],
                                  ["containerID": 1, "hostID": grange.start, "size": grange.count]]
        b.config["root"] = ["path": "rootfs", "readonly": false]
        let caps = ["CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE"]
        b.process["capabilities"] = ["bounding": caps, "effective": caps, "permitted": caps]
        let r = try b.sh("touch /tmp/f && chown 1000:1000 /tmp/f && stat -c '%u %g' /tmp/f && wc -l < /proc/self/uid_map")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "1000 1000\n2\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: b.dir + "/rootfs/tmp/f")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.uint32Value == range.start + 999)
        #expect((attrs[.groupOwnerAccountID] as? NSNumber)?.uint32Value == grange.start + 999)
        try? FileManager.default.removeItem(atPath: b.dir + "/rootfs/tmp/f")
    }

    @Test func withNoMappingsListedTheSubordinateRangeIsUsed() throws {
        let range = try #require(Harness.subordinateRange("/etc/subuid"))
        let b = try Bundle()
        b.linux["uidMappings"] = nil
        b.linux["gidMappings"] = nil
        let r = try b.sh("cat /proc/self/uid_map")
        #expect(r.status == 0, "\(r.stderr)")
        let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows == [["0", String(getuid()), "1"], ["1", String(range.start), String(range.count)]])
    }

    @Test func initIsPidOneAndNoHostProcessIsVisible() throws {
        let b = try Bundle()
        let r = try b.sh("echo $$; ls /proc | grep -c '^[0-9]'; test -e /proc/\(getpid()) && echo host-visible || true")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "1")
        // sh, ls and grep at most: nothing of the host.
        #expect((Int(lines.dropFirst().first ?? "") ?? 99) <= 3)
        #expect(!r.stdout.contains("host-visible"))
    }

    @Test func hostnameEnvCwdAndRlimitsAreAsConfigured() throws {
        let b = try Bundle()
        b.config["hostname"] = "box-\(getpid())"
        b.process["env"] = ["PATH=/bin", "GREETING=hi there"]
        b.process["cwd"] = "/tmp/work"
        b.process["rlimits"] = [["type": "RLIMIT_NOFILE", "soft": 512, "hard": 768],
                                ["type": "RLIMIT_CORE", "soft": 0, "hard": 0]]
        let r = try b.sh("hostname; echo \"$GREETING\"; pwd; ulimit -n; ulimit -Hn; ulimit -c")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "box-\(getpid())\nhi there\n/tmp/work\n512\n768\n0\n")
    }

    @Test func aReadOnlyRootRefusesWrites() throws {
        let b = try Bundle()
        b.config["root"] = ["path": "rootfs", "readonly": true]
        let r = try b.sh("touch /new-file")
        #expect(r.status != 0)
        #expect(r.stderr.contains("Read-only file system"))
        #expect(!FileManager.default.fileExists(atPath: b.dir + "/rootfs/new-file"))
        b.config["root"] = ["path": "rootfs", "readonly": false]
        #expect(try b.sh("touch /new-file").status == 0)
        #expect(FileManager.default.fileExists(atPath: b.dir + "/rootfs/new-file"))
    }

    @Test func bindAndTmpfsMountsAppear() throws {
        let b = try Bundle()
        let host = try Harness.temporaryDirectory("bind")
        defer { try? FileManager.default.removeItem(atPath: host) }
        try "marker-\(getpid())".write(toFile: host + "/marker", atomically: true, encoding: .utf8)
        b.mounts += [
            ["destination": "/data/rw", "type": "bind", "source": host, "options": ["rbind"]],
            ["destination": "/data/ro", "type": "bind", "source": host, "options": ["bind", "ro"]],
            ["destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m", "mode=1777"]],
        ]
        let r = try b.sh("""
            cat /data/rw/marker; echo
            cat /data/ro/marker; echo
            touch /data/ro/x 2>/dev/null && echo ro-writable || echo ro-refused
            touch /data/rw/from-container && echo rw-ok
            grep ' /scratch ' /proc/mounts | cut -d' ' -f3
            echo > /scratch/y && echo tmpfs-ok
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "marker-\(getpid())\nmarker-\(getpid())\nro-refused\nrw-ok\ntmpfs\ntmpfs-ok\n")
        #expect(FileManager.default.fileExists(atPath: host + "/from-container"))
    }

    @Test func devHasTheDefaultDevicesAndLinks() throws {
        let b = try Bundle()
        let r = try b.sh("""
            echo data > /dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c
            readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx
            test -c /dev/null && echo char
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "4\n4\n/proc/self/fd\n/proc/self/fd/0\npts/ptmx\nchar\n")
    }

    @Test func maskedAndReadOnlyPathsFromTheConfigApply() throws {
        let b = try Bundle()
        let r = try b.sh("""
            cat /proc/kcore | wc -c
            echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo writable || echo refused
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "0\nrefused\n")
    }

    @Test func aSymlinkInTheImageCannotSendAMountOutsideTheRoot() throws {
        let b = try Bundle()
        let outside = try Harness.temporaryDirectory("outside")
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.createSymbolicLink(atPath: b.dir + "/rootfs/escape", withDestinationPath: outside)
        b.mounts.append(["destination": "/escape/inner", "type": "tmpfs", "source": "tmpfs", "options": []])
        let r = try b.sh("grep -c ' \(outside)/inner ' /proc/mounts || true")
        #expect(r.status == 0, "\(r.stderr)")
        // The link resolved inside the root: the mount lands at the
        // container's own /<outside>/inner, and nothing was made on the host.
        #expect(r.stdout == "1\n")
        #expect(!FileManager.default.fileExists(atPath: outside + "/inner"))
    }

    @Test func specWritesAConfigThatRuns() throws {
        let b = try Bundle()
        #expect(b.config["ociVersion"] as? String == "1.2.0")
        let again = try Harness.run(Harness.binary("cove-unshare"), ["spec", "--rootless"], cwd: b.dir)
        #expect(again.status != 0)
        #expect(again.stderr.contains("exists"))
        #expect(try b.sh("true").status == 0)
    }

    @Test(arguments: ["1.0.2", "1.1.0", "1.2.1", "1.3.0"])
    func anyOneDotXConfigIsAccepted(version: String) throws {
        let b = try Bundle()
        b.config["ociVersion"] = version
        #expect(try b.sh("echo ok").stdout == "ok\n")
    }
}

/// The command line's machine-facing options.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeOptionTests {
    @Test func preservedDescriptorsReachTheProcess() throws {
        let b = try Bundle()
        try "through fd 3".write(toFile: b.dir + "/fd3.txt", atomically: true, encoding: .utf8)
        try "through fd 4".write(toFile: b.dir + "/fd4.txt", atomically: true, encoding: .utf8)
        b.setArgs(["sh", "-c", "cat /proc/self/fd/3; echo; cat <&4; echo; test -e /proc/self/fd/5 && echo leaked || echo closed"])
        _ = try b.runtime(["state", "none"])   // writes config.json
        let r = try Harness.run("/bin/sh", ["-c", "exec 3<fd3.txt 4<fd4.txt 5<fd3.txt; exec \"$@\"", "sh",
                                            Harness.binary("cove-unshare"), "--root", b.stateRoot, "run",
                                            "--preserve-fds", "2", "--bundle", b.dir, "fds"], cwd: b.dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "through fd 3\nthrough fd 4\nclosed\n")
    }

    @Test func errorsGoToTheLogFileAsJSONLines() throws {
        let b = try Bundle()
        let log = b.dir + "/runtime.log"
        let r2 = try Harness.run(Harness.binary("cove-unshare"),
                                 ["--root", b.stateRoot, "--log", log, "--log-format=json", "start", "nonexistent"])
        #expect(r2.status != 0)
        let line = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last.map(String.init) ?? ""
        let j = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        #expect(j?["level"] as? String == "error")
        #expect((j?["msg"] as? String)?.contains("nonexistent does not exist") == true)
        #expect(j?["time"] is String)
    }

    @Test func umaskAndAdditionalGroupsApply() throws {
        let range = try #require(Harness.subordinateRange("/etc/subgid"))
        let urange = try #require(Harness.subordinateRange("/etc/subuid"))
        let b = try Bundle()
        b.linux["uidMappings"] = [["containerID": 0, "hostID": getuid(), "size": 1],
                                  ["containerID": 1, "hostID": urange.start, "size": urange.count]]
        b.linux["gidMappings"] = [["containerID": 0, "hostID": getgid(), "size": 1],
                                  ["containerID": 1, "hostID": range.start, "size": range.count]]
        b.process["user"] = ["uid": 0, "gid": 0, "umask": 0o027, "additionalGids": [10, 20]]
        let r = try b.sh("umask; id -G")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "0027\n0 10 20\n")
    }

    @Test func killAllReachesEveryProcessOfTheContainer() throws {
        let b = try Bundle()
        b.setArgs(["sh", "-c", "sleep 60 & sleep 60 & wait"])
        #expect(try b.runtime(["run", "--detach", "--bundle", b.dir, "ka"]).status == 0)
        defer { _ = try? b.runtime(["delete", "--force", "ka"]) }
        usleep(200_000)
        #expect(try b.runtime(["kill", "--all", "ka", "KILL"]).status == 0)
        try b.waitForStatus("ka", "stopped")
    }
}

extension RuntimeRunTests {
    @Test func configDevicesAreFoundByTheirNumbersAndFifosAreMade() throws {
        let b = try Bundle()
        b.linux["devices"] = [
            ["path": "/dev/my-null", "type": "c", "major": 1, "minor": 3, "fileMode": 438],
            ["path": "/dev/my-fifo", "type": "p", "fileMode": 420],
        ]
        let r = try b.sh("echo gone > /dev/my-null && stat -c '%F %t:%T' /dev/my-null; stat -c '%F' /dev/my-fifo")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "character special file 1:3\nfifo\n")
    }
}

/// A mount on "/" in the config becomes the root: an overlay of read-only
/// layers and a writable upper directory, made inside the container's own
/// user and mount namespaces (the kernel's overlay with userxattr).
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct LayeredRootTests {
    @Test func anOverlayOnSlashIsTheRootAndLeavesTheLayerUntouched() throws {
        let b = try Bundle()
        let layers = try Harness.temporaryDirectory("layers")
        defer { _ = try? Harness.run("/bin/rm", ["-rf", layers]) }
        let fm = FileManager.default
        try fm.moveItem(atPath: b.dir + "/rootfs", toPath: layers + "/lower")
        try fm.createDirectory(atPath: b.dir + "/rootfs", withIntermediateDirectories: true)
        for d in ["upper", "work"] { try fm.createDirectory(atPath: layers + "/" + d, withIntermediateDirectories: true) }
        b.config["root"] = ["path": "rootfs", "readonly": false]
        b.mounts.insert(["destination": "/", "type": "overlay", "source": "overlay",
                         "options": ["lowerdir=\(layers)/lower", "upperdir=\(layers)/upper",
                                     "workdir=\(layers)/work", "userxattr"]], at: 0)
        let r = try b.sh("echo made > /made-inside && rm /bin/true && test ! -e /bin/true && grep -c '^overlay / ' /proc/mounts")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "1\n")
        // The write went to the upper layer, the delete is a whiteout there,
        // and the lower layer is as it was.
        #expect(try String(contentsOfFile: layers + "/upper/made-inside", encoding: .utf8) == "made\n")
        #expect(fm.fileExists(atPath: layers + "/lower/bin/true"))
        #expect(!fm.fileExists(atPath: layers + "/lower/made-inside"))
        #expect(fm.fileExists(atPath: layers + "/upper/bin/true"))   // the whiteout
        // Nothing stays mounted on the host.
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        #expect(!mountinfo.contains(layers))
    }
}
