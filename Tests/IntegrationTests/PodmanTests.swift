import Foundation
import Testing

/// podman 4.3 driving cove-unshare as its OCI runtime (`--runtime` with
/// the absolute path), as the same unprivileged user. The image is made by
/// `podman import` from the busybox rootfs, never pulled.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct PodmanTests {
    static let image = "localhost/cove-it-busybox:latest"
    static let prepared: Result<Void, Error> = Result { try Harness.importBusyboxImage(image) }

    @discardableResult
    func podman(_ args: [String], timeout: Double = 120) throws -> Harness.Output {
        try Self.prepared.get()
        return try Harness.run("/usr/bin/podman", ["--runtime", Harness.binary("cove-unshare")] + args, timeout: timeout)
    }

    @Test func runPrintsHello() throws {
        let r = try podman(["run", "--rm", "--pull=never", Self.image, "echo", "hello"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "hello\n")
    }

    @Test(arguments: [0, 1, 42, 255])
    func exitCodesPassThrough(code: Int) throws {
        let r = try podman(["run", "--rm", "--pull=never", "--network=none", Self.image, "sh", "-c", "exit \(code)"])
        #expect(Int(r.status) == code, "\(r.stderr)")
    }

    @Test func aMissingCommandIs127AndANonExecutableIs126() throws {
        let missing = try podman(["run", "--rm", "--pull=never", "--network=none", Self.image, "no-such-command"])
        #expect(missing.status == 127, "\(missing.stderr)")
        let notExec = try podman(["run", "--rm", "--pull=never", "--network=none", Self.image, "/etc/passwd"])
        #expect(notExec.status == 126, "\(notExec.stderr)")
    }

    @Test func envWorkdirHostnameAndUserReachTheProcess() throws {
        let r = try podman(["run", "--rm", "--pull=never", "--network=none", "-e", "FOO=bar", "-w", "/tmp",
                            "--hostname", "podbox", "-u", "65534:65534", Self.image,
                            "sh", "-c", "echo $FOO $(pwd) $(hostname) $(id -u):$(id -g) $$"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "bar /tmp podbox 65534:65534 1\n")
    }

    @Test func detachedContainersStopAndAreRemoved() throws {
        let name = "cove-it-\(getpid())-d"
        let run = try podman(["run", "-d", "--pull=never", "--name", name, Self.image, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        let running = try podman(["inspect", "--format", "{{.State.Status}}", name])
        #expect(running.stdout == "running\n")
        // sleep as PID 1 ignores SIGTERM: podman falls back to SIGKILL after the timeout.
        let stop = try podman(["stop", "-t", "1", name])
        #expect(stop.status == 0, "\(stop.stderr)")
        let stopped = try podman(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name])
        #expect(stopped.stdout == "exited 137\n")
        #expect(try podman(["rm", name]).status == 0)
        let gone = try podman(["ps", "-a", "--filter", "name=\(name)", "--format", "{{.Names}}"])
        #expect(gone.stdout.isEmpty)
    }

    @Test func aContainerThatHandlesSigtermStopsWithItsOwnCode() throws {
        let name = "cove-it-\(getpid())-t"
        let run = try podman(["run", "-d", "--pull=never", "--network=none", "--name", name, Self.image,
                              "sh", "-c", "trap 'exit 5' TERM; while true; do sleep 0.1; done"])
        #expect(run.status == 0, "\(run.stderr)")
        usleep(300_000)
        #expect(try podman(["stop", "-t", "10", name]).status == 0)
        let stopped = try podman(["inspect", "--format", "{{.State.ExitCode}}", name])
        #expect(stopped.stdout == "5\n")
        #expect(try podman(["rm", name]).status == 0)
    }
}

extension PodmanTests {
    @Test func podmansDefaultSeccompProfileIsEnforcedAndUnconfinedLiftsIt() throws {
        let confined = try podman(["run", "--rm", "--pull=never", "--network=none", Self.image,
                                   "sh", "-c", "grep '^Seccomp:' /proc/self/status"])
        #expect(confined.status == 0, "\(confined.stderr)")
        #expect(confined.stdout == "Seccomp:\t2\n")
        let open = try podman(["run", "--rm", "--pull=never", "--network=none", "--security-opt", "seccomp=unconfined",
                               Self.image, "sh", "-c", "grep '^Seccomp:' /proc/self/status"])
        #expect(open.stdout == "Seccomp:\t0\n")
    }

    @Test func capDropAndCapAddShapeTheSets() throws {
        let r = try podman(["run", "--rm", "--pull=never", "--network=none", "--cap-drop=all", "--cap-add=NET_BIND_SERVICE",
                            "--cap-add=CHOWN", Self.image, "sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"])
        #expect(r.status == 0, "\(r.stderr)")
        // CHOWN is bit 0, NET_BIND_SERVICE bit 10.
        #expect(r.stdout == "CapEff:\t0000000000000401\nCapBnd:\t0000000000000401\n")
    }

    @Test func noNewPrivilegesAndReadOnlyReachTheContainer() throws {
        let r = try podman(["run", "--rm", "--pull=never", "--network=none", "--read-only",
                            "--security-opt", "no-new-privileges", Self.image,
                            "sh", "-c", "grep NoNewPrivs /proc/self/status; touch /x 2>&1 || true"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("NoNewPrivs:\t1"))
        #expect(r.stdout.contains("Read-only file system"))
    }
}

extension PodmanTests {
    @Test func logsKillWithASignalAndRestart() throws {
        let name = "cove-it-\(getpid())-l"
        let script = "trap 'echo got-usr1' USR1; echo out; echo err >&2; while true; do sleep 0.1; done"
        let run = try podman(["run", "-d", "--pull=never", "--network=none", "--name", name, Self.image, "sh", "-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? podman(["rm", "-f", "-t", "0", name]) }
        usleep(300_000)
        #expect(try podman(["kill", "-s", "USR1", name]).status == 0)
        var logs = ""
        for _ in 0..<100 {
            let l = try podman(["logs", name])
            logs = l.stdout + l.stderr
            if logs.contains("got-usr1") { break }
            usleep(50_000)
        }
        #expect(logs.contains("out"))
        #expect(logs.contains("err"))
        #expect(logs.contains("got-usr1"))
        let restart = try podman(["restart", "-t", "1", name])
        #expect(restart.status == 0, "\(restart.stderr)")
        #expect(try podman(["inspect", "--format", "{{.State.Status}}", name]).stdout == "running\n")
        var outs = 0
        for _ in 0..<100 {
            outs = try podman(["logs", name]).stdout.split(separator: "\n").filter { $0 == "out" }.count
            if outs == 2 { break }
            usleep(50_000)
        }
        #expect(outs == 2)
    }
}

extension PodmanTests {
    @Test func aSeccompProfileGivenToPodmanIsEnforced() throws {
        let dir = try Harness.temporaryDirectory("profile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let profile = #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}"#
        try profile.write(toFile: dir + "/profile.json", atomically: true, encoding: .utf8)
        let r = try podman(["run", "--rm", "--pull=never", "--network=none", "--security-opt", "seccomp=\(dir)/profile.json",
                            Self.image, "sh", "-c", "mkdir /tmp/d 2>&1; touch /tmp/f && echo touched"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Operation not permitted"))
        #expect(r.stdout.contains("touched"))
    }
}
