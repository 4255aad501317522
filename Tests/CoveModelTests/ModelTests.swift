import Testing
@testable import CoveModel

struct SyncMessageTests {
    @Test(arguments: [SyncMessage.userNamespaceReady, .mapsWritten, .initPid(4242), .ready,
                      .failure(errno: 2, message: "exec x: not found\u{1F}with separator"),
                      .execFailure(errno: 13, message: "exec /etc: permission denied"), .terminal,
                      .handoff("netns"), .networkArguments(#"["--mtu","9000","--bundle","/b"]"#), .bundleReady,
                      .awaitingHooks, .hooksDone(state: #"{"id":"x"}"#), .mountRoot, .rootMounted])
    func roundTrips(m: SyncMessage) { #expect(SyncMessage(decoding: m.encoded()) == m) }

    @Test func rejectsGarbage() {
        #expect(SyncMessage(decoding: Array("pid\u{1F}abc".utf8)) == nil)
        #expect(SyncMessage(decoding: Array("what".utf8)) == nil)
    }
}

struct IDMapPlanTests {
    @Test func parsesSubordinateRangesByNameOrId() {
        let text = "alice:100000:65536\nbob:200000:1000\n1001:300000:10\n# comment\nalice:500000:0\n"
        #expect(SubordinateRange.parse(text, user: "alice", id: 1000) == [.init(start: 100000, count: 65536)])
        #expect(SubordinateRange.parse(text, user: "carol", id: 1001) == [.init(start: 300000, count: 10)])
        #expect(SubordinateRange.parse(text, user: "dave", id: 7).isEmpty)
    }

    @Test func defaultMappingsPutTheCallerAtRootAndRangesAfter() {
        let m = IDMapPlan.defaultMappings(ownID: 1000, ranges: [.init(start: 100000, count: 65536)])
        #expect(m == [.init(containerID: 0, hostID: 1000, size: 1), .init(containerID: 1, hostID: 100000, size: 65536)])
        #expect(IDMapPlan.defaultMappings(ownID: 5, ranges: []) == [.init(containerID: 0, hostID: 5, size: 1)])
    }

    @Test func aSingleMapOfOnesOwnIdIsWrittenDirectly() {
        let own = RuntimeSpec.IDMapping(containerID: 0, hostID: 1000, size: 1)
        #expect(IDMapPlan.plan([own], ownID: 1000) == .direct(own))
        #expect(IDMapPlan.plan([own], ownID: 1001) == .helper([own]))
        let two = [own, .init(containerID: 1, hostID: 100000, size: 10)]
        #expect(IDMapPlan.plan(two, ownID: 1000) == .helper(two))
    }

    @Test func validateCatchesWhatTheKernelRefuses() {
        #expect(IDMapPlan.validate([], kind: "uid") != nil)
        #expect(IDMapPlan.validate([.init(containerID: 0, hostID: 1, size: 0)], kind: "uid") != nil)
        #expect(IDMapPlan.validate([.init(containerID: 0, hostID: 1, size: 10),
                                    .init(containerID: 5, hostID: 100, size: 10)], kind: "uid") != nil)
        #expect(IDMapPlan.validate([.init(containerID: 0, hostID: 1, size: 1),
                                    .init(containerID: 1, hostID: 100, size: 10)], kind: "uid") == nil)
    }
}

struct ContainerStateTests {
    @Test func storedStateRoundTripsAndPublicStateHasTheSpecFields() throws {
        let s = ContainerState(ociVersion: "1.2.0", id: "c", status: .running, pid: 42, bundle: "/b", rootfs: "/b/r",
                               annotations: [("k", "v")], pidStartTime: 99, created: "t", owner: "me")
        #expect(try ContainerState(stored: JSON.parse(s.storedJSON.serialized())) == s)
        let pub = s.publicJSON
        for key in ["ociVersion", "id", "status", "pid", "bundle", "annotations"] { #expect(pub[key] != nil) }
        var stopped = s
        stopped.status = .stopped
        #expect(stopped.publicJSON["pid"]?.int64Value == 0)
    }
}
