import Testing
@testable import CoveEngine

/// A machine described by a table, for the doctor's rules.
struct FakeHost: HostProbe {
    var userName = "alice"
    var uid: UInt32 = 1000
    var gid: UInt32 = 1000
    var env: [String: String] = ["XDG_RUNTIME_DIR": "/run/user/1000"]
    var files: [String: String] = [
        "/etc/subuid": "alice:100000:65536\n", "/etc/subgid": "alice:100000:65536\n",
        "/proc/sys/user/max_user_namespaces": "63000\n",
        "/proc/sys/net/ipv4/ping_group_range": "0\t2147483647\n",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start": "1024\n",
    ]
    var stats: [String: (mode: UInt32, uid: UInt32)] = [
        "/usr/bin/newuidmap": (0o104755, 0), "/usr/bin/newgidmap": (0o104755, 0),
        "/run/user/1000": (0o40700, 1000), "/dev/fuse": (0o20666, 0), "/dev/net/tun": (0o20666, 0),
        "/home/alice/.local/share": (0o40755, 1000),
    ]
    var readWrite: Set<String> = ["/dev/fuse", "/dev/net/tun"]
    var fsTypes: [String: Int64] = ["/home/alice/.local/share": 0xEF53]
    var capabilities: Set<String> = []

    func environment(_ name: String) -> String? { env[name] }
    func readText(_ path: String) -> String? { files[path] }
    func stat(_ path: String) -> (mode: UInt32, uid: UInt32)? { stats[path] }
    func hasFileCapabilities(_ path: String) -> Bool { capabilities.contains(path) }
    func canReadWrite(_ path: String) -> Bool { readWrite.contains(path) }
    func filesystemType(_ path: String) -> Int64? { fsTypes[path] }
    func findExecutable(_ name: String) -> String? { stats["/usr/bin/\(name)"] != nil ? "/usr/bin/\(name)" : nil }
}

struct DoctorTests {
    func findings(_ host: FakeHost) -> [String: DoctorFinding] {
        let list = Doctor(probe: host, storagePath: "/home/alice/.local/share/cove").run()
        return Dictionary(list.map { ($0.check, $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func aPreparedMachineHasNoProblems() {
        let f = findings(FakeHost())
        #expect(f.values.filter { $0.severity == .problem }.isEmpty, "\(f.values.map(\.line))")
        #expect(f["/etc/subuid"]?.severity == .ok)
        #expect(f["published ports"]?.severity == .note)
    }

    @Test func missingSubordinateRangesAreAProblemWithTheUsermodFix() {
        var host = FakeHost()
        host.files["/etc/subuid"] = "bob:100000:65536\n"
        let f = findings(host)
        #expect(f["/etc/subuid"]?.severity == .problem)
        #expect(f["/etc/subuid"]?.fix == "sudo usermod --add-subuids 100000-165535 alice")
        #expect(f["/etc/subgid"]?.severity == .ok)
    }

    @Test func idMappersMustBeSetuidOrCarryCapabilities() {
        var host = FakeHost()
        host.stats["/usr/bin/newuidmap"] = (0o100755, 0)
        #expect(findings(host)["newuidmap"]?.severity == .problem)
        host.capabilities = ["/usr/bin/newuidmap"]
        #expect(findings(host)["newuidmap"]?.severity == .ok)
        host.stats["/usr/bin/newgidmap"] = nil
        #expect(findings(host)["newgidmap"]?.fix?.contains("apt-get install uidmap") == true)
    }

    @Test(arguments: [
        ("/proc/sys/user/max_user_namespaces", "0\n", "user.max_user_namespaces"),
        ("/proc/sys/kernel/unprivileged_userns_clone", "0\n", "unprivileged_userns_clone"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1\n", "AppArmor"),
    ])
    func userNamespaceRestrictionsAreFound(file: String, value: String, words: String) {
        var host = FakeHost()
        host.files[file] = value
        let f = findings(host)["user namespaces"]
        #expect(f?.severity == .problem)
        #expect(f?.message.contains(words) == true)
    }

    @Test func runtimeDirectoryUnsetOrForeignIsNoted() {
        var host = FakeHost()
        host.env = [:]
        #expect(findings(host)["XDG_RUNTIME_DIR"]?.message == "unset")
        host.env = ["XDG_RUNTIME_DIR": "/run/user/1000"]
        host.stats["/run/user/1000"] = (0o40700, 0)
        #expect(findings(host)["XDG_RUNTIME_DIR"]?.message.contains("belongs to uid 0") == true)
    }

    @Test func devicesWithoutAccessAreNotedWithChmod() {
        var host = FakeHost()
        host.readWrite = []
        #expect(findings(host)["/dev/net/tun"]?.fix == "sudo chmod 0666 /dev/net/tun (distributions do it with a udev rule)")
        // The default network needs the tun device; fuse is only a fallback.
        #expect(findings(host)["/dev/net/tun"]?.severity == .problem)
        #expect(findings(host)["/dev/fuse"]?.severity == .note)
    }

    @Test func storageOnNFSIsAProblemWithWhereToPutIt() {
        var host = FakeHost()
        host.fsTypes["/home/alice/.local/share"] = 0x6969
        let f = findings(host)["storage"]
        #expect(f?.severity == .problem)
        #expect(f?.fix?.contains("XDG_DATA_HOME") == true)
    }

    @Test func delegatedCgroupsAreRecognised() {
        var host = FakeHost()
        host.fsTypes["/sys/fs/cgroup"] = 0x6367_7270
        host.files["/proc/self/cgroup"] = "0::/user.slice/user-1000.slice/user@1000.service/app.slice\n"
        let dir = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice"
        host.files[dir + "/cgroup.controllers"] = "cpuset cpu io memory pids\n"
        host.stats[dir] = (0o40755, 1000)
        #expect(findings(host)["cgroups"]?.severity == .ok)
        host.stats[dir] = (0o40755, 0)
        #expect(findings(host)["cgroups"]?.severity == .note)
    }
}
