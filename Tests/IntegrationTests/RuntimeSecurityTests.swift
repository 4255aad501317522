import Foundation
import Testing

/// Capabilities and no_new_privs, read back from /proc/self/status inside.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeSecurityTests {
    static func status(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { out[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return out
    }

    static func mask(_ bits: [Int]) -> String {
        String(format: "%016llx", bits.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) })
    }

    static var sets: [String: Any] { [
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "inheritable": ["CAP_KILL"],
        "ambient": ["CAP_KILL"],
    ] }

    @Test func rootGetsTheBoundingSetAndTheConfiguredOthers() throws {
        let b = try Bundle()
        b.process["capabilities"] = Self.sets
        b.process["noNewPrivileges"] = true
        let r = try b.sh("grep -E '^(Cap|NoNewPrivs)' /proc/self/status")
        #expect(r.status == 0, "\(r.stderr)")
        let s = Self.status(r.stdout)
        // After exec, root's permitted and effective sets are its bounding
        // set (with inheritable): the kernel's rule for uid 0.
        #expect(s["CapBnd"] == Self.mask([0, 5, 10]))
        #expect(s["CapPrm"] == Self.mask([0, 5, 10]))
        #expect(s["CapEff"] == Self.mask([0, 5, 10]))
        #expect(s["CapInh"] == Self.mask([5]))
        #expect(s["CapAmb"] == Self.mask([5]))
        #expect(s["NoNewPrivs"] == "1")
    }

    @Test func aNonRootUserKeepsOnlyItsAmbientCapabilities() throws {
        let range = try #require(Harness.subordinateRange("/etc/subuid"))
        let grange = try #require(Harness.subordinateRange("/etc/subgid"))
        let b = try Bundle()
        b.linux["uidMappings"] = [["containerID": 0, "hostID": getuid(), "size": 1],
                                  ["containerID": 1, "hostID": range.start, "size": range.count]]
        b.linux["gidMappings"] = [["containerID": 0, "hostID": getgid(), "size": 1],
                                  ["containerID": 1, "hostID": grange.start, "size": grange.count]]
        b.process["user"] = ["uid": 1000, "gid": 1000, "additionalGids": [1000, 2000]]
        b.process["capabilities"] = Self.sets
        b.process["noNewPrivileges"] = false
        let r = try b.sh("id; grep -E '^(Cap|NoNewPrivs)' /proc/self/status")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("uid=1000 gid=1000 groups=1000,2000\n"))
        let s = Self.status(r.stdout)
        #expect(s["CapBnd"] == Self.mask([0, 5, 10]))
        #expect(s["CapInh"] == Self.mask([5]))
        #expect(s["CapAmb"] == Self.mask([5]))
        #expect(s["CapPrm"] == Self.mask([5]))
        #expect(s["CapEff"] == Self.mask([5]))
        #expect(s["NoNewPrivs"] == "0")
    }

    @Test func namespacedSysctlsAndOomScoreAdjApply() throws {
        let b = try Bundle()
        b.linux["sysctl"] = ["net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 0"]
        b.process["oomScoreAdj"] = 500
        let r = try b.sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ping_group_range /proc/self/oom_score_adj")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(whereSeparator: { $0 == "\n" || $0 == "\t" || $0 == " " }) == ["1", "0", "0", "500"])
    }

    @Test func droppedCapabilitiesAreEnforced() throws {
        let b = try Bundle()
        b.config["root"] = ["path": "rootfs", "readonly": false]
        let none: [String] = []
        b.process["capabilities"] = ["bounding": none, "effective": none, "permitted": none]
        // Without CAP_CHOWN even root in the namespace cannot give a file away.
        let r = try b.sh("touch /tmp/x; chown 65534 /tmp/x && echo chowned || echo refused")
        #expect(r.stdout == "refused\n")
    }

    @Test func capabilityNamesTheKernelDoesNotKnowAreSkippedWithAWarning() throws {
        let b = try Bundle()
        b.process["capabilities"] = ["bounding": ["CAP_KILL", "CAP_FROBNICATE"], "effective": ["CAP_KILL"],
                                     "permitted": ["CAP_KILL"]]
        let r = try b.sh("grep CapBnd /proc/self/status")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains(Self.mask([5])))
        #expect(r.stderr.contains("CAP_FROBNICATE"))
    }
}

/// linux.seccomp compiled with libseccomp and loaded before exec.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeSeccompTests {
    static func profile(_ rules: [[String: Any]], flags: [String] = []) -> [String: Any] {
        ["defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
         "flags": flags, "syscalls": rules]
    }

    @Test(arguments: [true, false])
    func aChosenSyscallGetsEpermWhileOthersWork(noNewPrivileges: Bool) throws {
        let b = try Bundle()
        b.config["root"] = ["path": "rootfs", "readonly": false]
        b.process["noNewPrivileges"] = noNewPrivileges
        b.linux["seccomp"] = Self.profile([
            ["names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1],
            ["names": ["no_such_syscall_at_all"], "action": "SCMP_ACT_ERRNO"],
        ])
        let r = try b.sh("mkdir /tmp/d 2>&1; touch /tmp/f && echo touched; grep Seccomp: /proc/self/status")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Operation not permitted"))
        #expect(r.stdout.contains("touched"))
        #expect(r.stdout.contains("Seccomp:\t2"))
    }

    @Test func argumentComparisonsSelectTheCall() throws {
        let b = try Bundle()
        // kill(pid, SIGUSR1) refused with EACCES; kill(pid, 0) still works.
        b.linux["seccomp"] = Self.profile([
            ["names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
             "args": [["index": 1, "value": 10, "op": "SCMP_CMP_EQ"]]],
        ])
        let r = try b.sh("kill -0 $$ && echo probe-ok; kill -USR1 $$ 2>&1 || true")
        #expect(r.stdout.contains("probe-ok"))
        #expect(r.stdout.contains("Permission denied"))
    }

    @Test func theDefaultErrnoAndMaskedComparisonsApply() throws {
        let b = try Bundle()
        // Everything but a short allow list fails with EACCES (13), mkdir
        // among them; umask passes through a masked comparison (its 0o700
        // bits must be zero), so `umask 022` works.
        let allowed = ["execve", "brk", "arch_prctl", "mmap", "munmap", "mprotect", "set_tid_address",
                       "rt_sigaction", "rt_sigprocmask", "getpid", "getppid", "getuid", "geteuid", "getgid",
                       "getegid", "write", "writev", "exit", "exit_group", "ioctl", "fcntl", "read", "close",
                       "newfstatat", "fstat", "stat", "lseek", "prlimit64", "getrlimit", "uname", "set_robust_list",
                       "rseq", "getrandom", "sigaltstack", "wait4", "dup2", "dup3", "access", "openat", "readlink",
                       "getcwd", "chdir", "clone", "fork", "vfork", "clone3", "getpgrp", "setpgid", "rt_sigreturn",
                       "capget", "prctl", "futex", "sched_getaffinity", "statx", "pipe", "pipe2", "faccessat",
                       "faccessat2", "poll", "ppoll", "select", "pselect6", "sched_yield", "gettid", "tgkill", "kill"]
        b.linux["seccomp"] = ["defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 13, "syscalls": [
            ["names": allowed, "action": "SCMP_ACT_ALLOW"],
            ["names": ["umask"], "action": "SCMP_ACT_ALLOW",
             "args": [["index": 0, "value": 0o700, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"]]],
        ]]
        let r = try b.sh("umask 022 && echo umask-ok; mkdir /tmp/x 2>&1 || true")
        #expect(r.stdout.contains("umask-ok"), "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("Permission denied"), "\(r.stdout) \(r.stderr)")
    }

    @Test func aBrokenProfileIsRefusedBeforeAnythingRuns() throws {
        let b = try Bundle()
        b.linux["seccomp"] = ["defaultAction": "SCMP_ACT_BOGUS"]
        let r = try b.sh("echo ran")
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("linux.seccomp.defaultAction"))
    }
}
