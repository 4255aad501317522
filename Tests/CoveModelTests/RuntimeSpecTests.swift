import Testing
@testable import CoveModel

struct RuntimeSpecTests {
    static let minimal = """
        {"ociVersion":"1.0.2","root":{"path":"rootfs"},
         "process":{"args":["sh"],"cwd":"/","user":{"uid":1,"gid":2,"additionalGids":[3,4],"umask":18},
                    "env":["A=b"],"rlimits":[{"type":"RLIMIT_NOFILE","soft":10,"hard":18446744073709551615}]},
         "hostname":"h","annotations":{"x":"y"},
         "mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
         "linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/proc/1/ns/net"},{"type":"mount"}],
                  "uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
                  "maskedPaths":["/proc/kcore"],"sysctl":{"net.ipv4.ip_forward":"1"}}}
        """

    @Test func readsTheFieldsTheRuntimeUses() throws {
        let s = try RuntimeSpec(text: Self.minimal)
        #expect(s.ociVersion == "1.0.2")
        #expect(s.root?.path == "rootfs")
        #expect(s.root?.readonly == false)
        let p = try #require(s.process)
        #expect(p.user.uid == 1 && p.user.gid == 2 && p.user.additionalGids == [3, 4] && p.user.umask == 18)
        #expect(p.rlimits == [.init(type: "RLIMIT_NOFILE", soft: 10, hard: UInt64.max)])
        #expect(s.hostname == "h")
        #expect(s.annotations.first?.0 == "x")
        #expect(s.mounts == [.init(destination: "/proc", type: "proc", source: "proc", options: [])])
        let l = try #require(s.linux)
        #expect(l.namespace(.network)?.path == "/proc/1/ns/net")
        #expect(l.namespace(.pid)?.path == nil)
        #expect(l.namespace(.user) == nil)
        #expect(l.uidMappings == [.init(containerID: 0, hostID: 1000, size: 1)])
        #expect(l.sysctl.first?.1 == "1")
    }

    @Test(arguments: [
        (#"{"ociVersion":"2.0.0"}"#, "ociVersion"),
        (#"{"ociVersion":"1.0.0","process":{"cwd":"rel","user":{}}}"#, "process.cwd"),
        (#"{"ociVersion":"1.0.0","process":{"cwd":"/"}}"#, "process.user"),
        (#"{"ociVersion":"1.0.0","process":{"cwd":"/","user":{"uid":-1}}}"#, "process.user.uid"),
        (#"{"ociVersion":"1.0.0","process":{"cwd":"/","user":{},"args":"sh"}}"#, "process.args"),
        (#"{"ociVersion":"1.0.0","linux":{"namespaces":[{"type":"bogus"}]}}"#, "linux.namespaces[0].type"),
        (#"{"ociVersion":"1.0.0","linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]}}"#, "linux.namespaces[1].type"),
        (#"{"ociVersion":"1.0.0","mounts":[{"type":"tmpfs"}]}"#, "mounts[0].destination"),
        (#"{"ociVersion":1}"#, "ociVersion"),
        ("{not json", "(document)"),
    ])
    func namesTheFieldThatIsWrong(text: String, field: String) {
        do {
            _ = try RuntimeSpec(text: text)
            Issue.record("accepted \(text)")
        } catch let e as SpecError {
            #expect(e.field == field)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: ["1.0.0", "1.0.2", "1.1.0", "1.2.0", "1.2.1", "1.3.0", "1.0.2-dev"])
    func acceptsEveryOneDotX(version: String) { #expect(RuntimeSpec.supports(ociVersion: version)) }

    @Test(arguments: ["0.9.0", "2.0.0", "", "10.0"])
    func refusesOtherMajors(version: String) { #expect(!RuntimeSpec.supports(ociVersion: version)) }

    @Test func defaultRootlessSpecParsesAndMapsTheCaller() throws {
        let s = try RuntimeSpec(json: DefaultSpec.make(rootless: true, uid: 1234, gid: 99))
        #expect(s.linux?.namespace(.user) != nil)
        #expect(s.linux?.uidMappings == [.init(containerID: 0, hostID: 1234, size: 1)])
        #expect(s.linux?.gidMappings == [.init(containerID: 0, hostID: 99, size: 1)])
        #expect(s.mounts.contains { $0.destination == "/sys" && $0.options.contains("rbind") })
        #expect(!s.mounts.contains { $0.options.contains("gid=5") })
        let rooted = try RuntimeSpec(json: DefaultSpec.make(rootless: false, uid: 0, gid: 0))
        #expect(rooted.linux?.namespace(.user) == nil)
    }
}
