import Foundation
import Testing

/// cove-unshare with a config mount of type fuse-overlayfs on "/": the
/// server runs outside the container's PID namespace and ends with the
/// container (run), or at `delete` (create/start, no monitor).
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeFuseRootTests {
    func fuseBundle() throws -> Bundle {
        let b = try Bundle("fuseroot")
        for d in ["upper", "work", "merged"] {
            try FileManager.default.createDirectory(atPath: b.dir + "/" + d, withIntermediateDirectories: true)
        }
        b.config["root"] = ["path": "merged", "readonly": false]
        b.mounts = [["destination": "/", "type": "fuse-overlayfs", "source": "fuse-overlayfs",
                     "options": ["lowerdir=\(b.dir)/rootfs", "upperdir=\(b.dir)/upper", "workdir=\(b.dir)/work"]]] + b.mounts
        return b
    }

    @Test func runServesTheRootFromOutsideAndEndsTheServer() throws {
        let b = try fuseBundle()
        let r = try b.sh("echo x > /x; cat /x; ps -o comm | grep -c fuse; grep ' / / ' /proc/self/mountinfo | grep -c fuse")
        #expect(r.status == 0, "\(r.stderr)")
        // Written through the fuse mount into the upper layer; the server is
        // not in the container's process list; the root is the fuse mount.
        #expect(r.stdout == "x\n0\n1\n", "\(r.stdout) \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: b.dir + "/upper/x"))
        #expect(!FileManager.default.fileExists(atPath: b.dir + "/rootfs/x"))
        #expect(CoveStorageTests.fuseServers(naming: b.dir).isEmpty)
        #expect(try CoveStorageTests.nothingMounted(under: b.dir))
    }

    @Test func createKeepsTheServerUntilDelete() throws {
        let b = try fuseBundle()
        b.setArgs(["sleep", "300"])
        let c = try b.runtime(["create", "--bundle", b.dir, "f1"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(CoveStorageTests.fuseServers(naming: b.dir).count == 1)
        #expect(try b.runtime(["start", "f1"]).status == 0)
        try b.waitForStatus("f1", "running")
        #expect(try b.runtime(["kill", "f1", "KILL"]).status == 0)
        try b.waitForStatus("f1", "stopped")
        let d = try b.runtime(["delete", "f1"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(CoveStorageTests.fuseServers(naming: b.dir).isEmpty)
        #expect(try CoveStorageTests.nothingMounted(under: b.dir))
        // A forced delete of a created container ends its server too.
        #expect(try b.runtime(["create", "--bundle", b.dir, "f2"]).status == 0)
        #expect(CoveStorageTests.fuseServers(naming: b.dir).count == 1)
        #expect(try b.runtime(["delete", "--force", "f2"]).status == 0)
        #expect(CoveStorageTests.fuseServers(naming: b.dir).isEmpty)
    }

    @Test func aServerThatCannotMountFailsCreateInOneLine() throws {
        let b = try fuseBundle()
        b.mounts = b.mounts.map { m in
            guard m["destination"] as? String == "/" else { return m }
            var n = m
            n["options"] = ["lowerdir=\(b.dir)/no-such-dir", "upperdir=\(b.dir)/upper", "workdir=\(b.dir)/work"]
            return n
        }
        let r = try b.sh("true")
        #expect(r.status != 0)
        #expect(r.stderr.contains("fuse-overlayfs could not mount the root"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(CoveStorageTests.fuseServers(naming: b.dir).isEmpty)
    }
}
