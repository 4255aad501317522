import Foundation
import Testing

/// `cove tag`, `cove image inspect`, `cove rmi` and `cove image prune` on
/// an image pulled from a real registry.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: TestRegistry.available, "needs docker-registry, skopeo and python3 (scripts/prepare-host.sh)"))
struct ImageCommandsTests {
    @Test func tagInspectRemoveAndCollectGarbage() throws {
        let registry = try TestRegistry()
        let p = try PullTests.push(PullTests.multiLayer, to: registry, name: "cove/names")
        let s = try PullTests.Scratch()
        #expect(try s.pull(p.ref).status == 0)
        let blobDir = s.root + "/blobs/sha256"
        let stored = Set(try FileManager.default.contentsOfDirectory(atPath: blobDir))
        #expect(stored.count == 5)

        let tag = try s.cove(["tag", "--root", s.root, p.ref, "localhost/other:v2"])
        #expect(tag.status == 0, "\(tag.stderr)")
        let id = String(p.configDigest.dropFirst(7))
        let inspect = try s.cove(["image", "inspect", "--root", s.root, String(id.prefix(8))])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        let objects = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(objects.count == 1)
        let o = objects.first ?? [:]
        #expect(o["Id"] as? String == id)
        #expect(Set(o["RepoTags"] as? [String] ?? []) == [p.ref, "localhost/other:v2"])
        #expect(o["Digest"] as? String == p.manifestDigest)
        #expect(o["Os"] as? String == "linux")
        #expect(((o["Config"] as? [String: Any])?["Env"] as? [String]) == ["PATH=/bin"])
        #expect(((o["RootFS"] as? [String: Any])?["diff_ids"] as? [String])?.count == 3)
        #expect((o["Size"] as? Int ?? 0) > 0)

        // By ID, with two names: refused without -f.
        let ambiguous = try s.cove(["rmi", "--root", s.root, String(id.prefix(12))])
        #expect(ambiguous.status == 125 && ambiguous.stderr.contains("-f"), "\(ambiguous.stderr)")
        let first = try s.cove(["rmi", "--root", s.root, "localhost/other:v2"])
        #expect(first.status == 0 && first.stdout == "Untagged: localhost/other:v2\n", "\(first.stdout) \(first.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: blobDir)) == stored)
        let unknown = try s.cove(["rmi", "--root", s.root, "localhost/absent:1"])
        #expect(unknown.status == 1 && unknown.stderr.contains("image not known"))
        let last = try s.cove(["rmi", "--root", s.root, p.ref])
        #expect(last.status == 0, "\(last.stderr)")
        #expect(last.stdout == "Untagged: \(p.ref)\nDeleted: \(id)\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: blobDir) == [])
        #expect(try PullTests.imageRows(s).isEmpty)

        // Prune: blobs nothing names go; a named image stays whole.
        #expect(try s.pull(p.ref).status == 0)
        FileManager.default.createFile(atPath: blobDir + "/" + String(repeating: "0", count: 64), contents: Data("x".utf8))
        let prune = try s.cove(["image", "prune", "--root", s.root])
        #expect(prune.status == 0, "\(prune.stderr)")
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: blobDir)) == stored)
    }
}
