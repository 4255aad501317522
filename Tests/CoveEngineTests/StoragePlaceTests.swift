import Testing
@testable import CoveEngine
import CoveModel

/// The storage place's one-line verdicts (NFS cannot be made here: the
/// decision is tested on filesystem type numbers) and keep-id's maps.
struct StoragePlaceTests {
    @Test func overlayOnNFSSaysWhatToSet() {
        let line = StoragePlace.problem(driver: "overlay", fsType: 0x6969, root: "/home/al/.local/share/cove", user: "al")
        #expect(line == "the storage place /home/al/.local/share/cove is on nfs, where the overlay driver cannot keep "
            + "a container's writable layer: set --root or COVE_ROOT to a directory on a local disk (e.g. /var/tmp/al-cove)")
        #expect(StoragePlace.problem(driver: "fuse-overlayfs", fsType: 0xFF53_4D42, root: "/r", user: "al")?.contains("on cifs") == true)
        #expect(StoragePlace.problem(driver: "overlay", fsType: 0x794C_7630, root: "/r", user: "al")?
            .contains("--storage-driver fuse-overlayfs") == true)
    }

    @Test(arguments: [("copy", Int64(0x6969)), ("overlay", Int64(0xEF53)), ("fuse-overlayfs", Int64(0x0102_1994)),
                      ("fuse-overlayfs", Int64(0x794C_7630))])
    func localPlacesAndTheCopyDriverPass(driver: String, type: Int64) {
        #expect(StoragePlace.problem(driver: driver, fsType: type, root: "/r", user: "al") == nil)
        #expect(StoragePlace.problem(driver: driver, fsType: nil, root: "/r", user: "al") == nil)
    }

    /// Caller 1000 with subordinate ids 100000+65536: 0..999 → the first
    /// 1000 subordinate ids, 1000 → the caller, 1001… → the rest.
    @Test func keepIDMapsTheCallerToItself() throws {
        let p = try KeepIDPlan(uid: 1000, gid: 1001, subuids: [SubordinateRange(start: 100_000, count: 65536)],
                               subgids: [SubordinateRange(start: 200_000, count: 1000), SubordinateRange(start: 300_000, count: 5000)])
        #expect(p.uidMappings == [.init(containerID: 0, hostID: 100_000, size: 1000), .init(containerID: 1000, hostID: 1000, size: 1),
                                  .init(containerID: 1001, hostID: 101_000, size: 64536)])
        #expect(p.fuseOptions[0] == "uidmapping=1000:0:1:0:1:1000:1001:1001:64536")
        // Two gid ranges: the split falls after the first 1001 subordinate ids.
        #expect(p.gidMappings == [.init(containerID: 0, hostID: 200_000, size: 1000), .init(containerID: 1000, hostID: 300_000, size: 1),
                                  .init(containerID: 1001, hostID: 1001, size: 1), .init(containerID: 1002, hostID: 300_001, size: 4999)])
        #expect(p.fuseOptions[1] == "gidmapping=1001:0:1:0:1:1001:1002:1002:4999")
    }

    @Test func keepIDWithoutSubordinateIDsSaysWhatToAsk() {
        #expect(throws: EngineError.self) { try KeepIDPlan(uid: 1000, gid: 1000, subuids: [], subgids: []) }
    }
}

struct ContainerIDTests {
    /// 64 lowercase hex digits, as docker's, and not the same twice.
    @Test func idsAreSixtyFourHexDigitsAndDiffer() {
        let ids = (0..<200).map { _ in ContainerStore.newID() }
        for id in ids {
            #expect(id.utf8.count == 64 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(id)")
        }
        #expect(Set(ids).count == ids.count)
        // Every digit turns up: the hex conversion uses all sixteen.
        #expect(Set(ids.joined()).count == 16)
    }
}
