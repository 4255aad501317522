import Foundation
import Testing

/// The copy driver on a filesystem that shares file data (xfs with
/// reflink, loop-mounted for the test user by scripts/prepare-host.sh at
/// /var/tmp/cove-reflink-USER): a container's files are clones of the
/// layer cache's, sharing their extents, and a write inside changes only
/// the container's copy.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveReflinkTests {
    static var place: String { "/var/tmp/cove-reflink-\(Harness.userName)" }

    /// `filefrag -s -v`: each extent's first physical block and its flags,
    /// once the file's data is written out (xfs moves a write to a shared
    /// block into place at writeback).
    static func extents(_ path: String) throws -> [(physical: UInt64, flags: String)] {
        let r = try Harness.run("/usr/sbin/filefrag", ["-s", "-v", path])
        guard r.status == 0 else { throw Harness.SetupFailure(description: "filefrag \(path): \(r.stderr)") }
        // "   0:        0..      63:         24..        87:     64:             last,shared,eof"
        return r.stdout.split(separator: "\n").compactMap { line in
            let cols = line.split(separator: ":", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cols.count >= 5, Int(cols[0]) != nil, let start = cols[2].split(separator: ".").first,
                  let physical = UInt64(start) else { return nil }
            return (physical, cols.last ?? "")
        }
    }

    @Test func copyDriverClonesTheLayerCacheOnXFS() throws {
        // This machine's kernel has xfs (and btrfs) built in: the place must be there.
        let type = try Harness.run("/usr/bin/stat", ["-f", "-c", "%T", Self.place])
        #expect(type.stdout == "xfs\n",
                "\(Self.place) is not an xfs mount (\(type.stdout)\(type.stderr)): run scripts/prepare-host.sh as root")
        guard type.stdout == "xfs\n" else { return }

        let s = try FrontFixture.prepared.get()
        let tar = (s.root as NSString).deletingLastPathComponent + "/cove-it-front.tar"
        let root = Self.place + "/store-\(getpid())"
        let runroot = try Harness.temporaryDirectory("reflink-run")
        func cove(_ args: [String]) throws -> Harness.Output {
            try Harness.run(Harness.binary("cove"), ["--root", root, "--runroot", runroot] + args, timeout: 120)
        }
        defer {
            _ = try? Harness.run(Harness.binary("cove-fs"), ["remove", root], timeout: 120)
            try? FileManager.default.removeItem(atPath: runroot)
        }
        let load = try cove(["load", "-i", tar])
        #expect(load.status == 0, "\(load.stderr)")
        let created = try cove(["--storage-driver", "copy", "create", "--network", "none", FrontFixture.plain, "sh", "-c",
                                "echo changed >> /etc/passwd; cat /etc/passwd"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let rootfs = root + "/containers/\(id)/rootfs"
        let layers = try FileManager.default.contentsOfDirectory(atPath: root + "/layers").filter { !$0.hasPrefix(".") }
        func inLayer(_ rel: String) -> String? {
            layers.map { root + "/layers/\($0)/" + rel }.first { FileManager.default.fileExists(atPath: $0) }
        }
        for rel in ["bin/busybox", "etc/passwd"] {
            let cached = try #require(inLayer(rel), "no layer holds \(rel)")
            let mine = try Self.extents(rootfs + "/" + rel), theirs = try Self.extents(cached)
            // The same blocks, flagged shared on both sides: a clone, not a copy.
            #expect(!mine.isEmpty && mine.map(\.physical) == theirs.map(\.physical), "\(rel): \(mine) vs \(theirs)")
            #expect(mine.allSatisfy { $0.flags.contains("shared") } && theirs.allSatisfy { $0.flags.contains("shared") },
                    "\(rel): \(mine) vs \(theirs)")
        }
        let cachedPasswd = try #require(inLayer("etc/passwd"))
        let before = try String(contentsOfFile: cachedPasswd, encoding: .utf8)

        // A write inside: the container's copy changes, the cache does not.
        let run = try cove(["start", "-a", id])
        #expect(run.status == 0 && run.stdout == before + "changed\n", "\(run.stdout) \(run.stderr)")
        #expect(try String(contentsOfFile: cachedPasswd, encoding: .utf8) == before)
        #expect(try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8) == before + "changed\n")
        let after = try Self.extents(rootfs + "/etc/passwd")
        #expect(after.map(\.physical) != (try Self.extents(cachedPasswd)).map(\.physical))
        #expect(try cove(["rm", id]).status == 0)
    }
}
