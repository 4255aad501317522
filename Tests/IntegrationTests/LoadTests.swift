import Foundation
import Testing

/// `cove load` of archives that podman itself wrote, and `cove images`.
/// The image is made by `podman import` from the busybox rootfs (never
/// pulled), saved in both formats, and removed from podman again.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct LoadTests {
    struct Archives {
        let dir: String
        let name: String
        let imageID: String
    }

    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    static let prepared: Result<Archives, Error> = Result {
        let dir = try Harness.temporaryDirectory("load")
        let name = "localhost/cove-it-load-\(getpid()):latest"
        try Harness.importBusyboxImage(name)
        defer { _ = try? Harness.run("/usr/bin/podman", ["rmi", "-f", name], timeout: 120) }
        let id = try Harness.run("/usr/bin/podman", ["images", "--no-trunc", "--format", "{{.ID}}", name])
        for format in ["docker-archive", "oci-archive"] {
            let save = try Harness.run("/usr/bin/podman", ["save", "--format", format, "-o", dir + "/\(format).tar", name],
                                       timeout: 180)
            guard save.status == 0 else { throw Failure("podman save \(format): \(save.stderr)") }
        }
        let hex = id.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "sha256:", with: "")
        return Archives(dir: dir, name: name, imageID: String(hex.prefix(12)))
    }

    func cove(_ args: [String], root: String) throws -> Harness.Output {
        try Harness.run(Harness.binary("cove"), [args[0], "--root", root] + args.dropFirst(), timeout: 120)
    }

    @Test(arguments: ["docker-archive", "oci-archive"])
    func loadsAnArchivePodmanWroteAndListsIt(format: String) throws {
        let a = try Self.prepared.get()
        let root = try Harness.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let load = try cove(["load", "-i", a.dir + "/\(format).tar"], root: root)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout == "Loaded image: \(a.name)\n")
        let images = try cove(["images"], root: root)
        #expect(images.status == 0, "\(images.stderr)")
        let lines = images.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("REPOSITORY") == true)
        #expect(lines.first?.contains("IMAGE ID") == true)
        let row = lines.dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(row.count == 1)
        let repo = String(a.name.dropLast(":latest".count))
        #expect(Array(row.first?.prefix(3) ?? []) == [repo, "latest", a.imageID])
    }

    @Test func aCorruptedLayerIsRefusedAndTheStoreIsUnchanged() throws {
        let a = try Self.prepared.get()
        let root = try Harness.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let good = try cove(["load", "-i", a.dir + "/oci-archive.tar"], root: root)
        #expect(good.status == 0, "\(good.stderr)")
        // Compared without the CREATED column, which moves with the clock.
        let before = try cove(["images", "-q"], root: root)
        let indexBefore = try Data(contentsOf: URL(fileURLWithPath: root + "/images.json"))
        let blobsBefore = try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").sorted()

        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: a.dir + "/docker-archive.tar")))
        let layer = try #require(Self.dataOffset(ofEntryEndingWith: ".tar", in: bytes))
        bytes[layer + 1000] ^= 0xff
        let bad = a.dir + "/corrupted-\(UInt32.random(in: 0...UInt32.max)).tar"
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        defer { try? FileManager.default.removeItem(atPath: bad) }

        let load = try cove(["load", "-i", bad], root: root)
        #expect(load.status == 125)
        #expect(load.stderr.hasPrefix("Error: "), "\(load.stderr)")
        #expect(load.stderr.contains("does not match"), "\(load.stderr)")
        #expect(load.stderr.split(separator: "\n").count == 1, "\(load.stderr)")
        let after = try cove(["images", "-q"], root: root)
        #expect(after.status == 0 && !after.stdout.isEmpty)
        #expect(after.stdout == before.stdout)
        #expect(try Data(contentsOf: URL(fileURLWithPath: root + "/images.json")) == indexBefore)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256").sorted() == blobsBefore)
    }

    @Test func twoLoadsAtOnceEndWithOneGoodCopy() throws {
        let a = try Self.prepared.get()
        let root = try Harness.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let pids = try ["docker-archive", "oci-archive", "docker-archive"].map { format in
            try Harness.spawn(Harness.binary("cove"), ["load", "--root", root, "-i", a.dir + "/\(format).tar"])
        }
        for pid in pids { #expect(try Harness.finish(pid, timeout: 120) == 0) }
        let images = try cove(["images"], root: root)
        #expect(images.stdout.split(separator: "\n").count == 2, "\(images.stdout)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/ingest").isEmpty)
        // Every blob is whole: its name is its content's digest.
        for hex in try FileManager.default.contentsOfDirectory(atPath: root + "/blobs/sha256") {
            let r = try Harness.run("/usr/bin/sha256sum", [root + "/blobs/sha256/" + hex])
            #expect(r.stdout.hasPrefix(hex + " "))
        }
    }

    @Test func aMissingArchiveFailsWith125() throws {
        let root = try Harness.temporaryDirectory("store")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let load = try cove(["load", "-i", root + "/no-such.tar"], root: root)
        #expect(load.status == 125)
        #expect(load.stderr.hasPrefix("Error: open \(root)/no-such.tar"), "\(load.stderr)")
    }

    /// Walks ustar headers (512-byte blocks, name at 0, octal size at 124)
    /// to where a regular entry's data starts.
    static func dataOffset(ofEntryEndingWith suffix: String, in tar: [UInt8]) -> Int? {
        var off = 0
        while off + 512 <= tar.count, tar[off] != 0 {
            let name = String(decoding: tar[off..<off + 100].prefix(while: { $0 != 0 }), as: UTF8.self)
            let sizeText = String(decoding: tar[off + 124..<off + 136].prefix(while: { $0 != 0 && $0 != 0x20 }), as: UTF8.self)
            let size = Int(sizeText, radix: 8) ?? 0
            if name.hasSuffix(suffix), tar[off + 156] == UInt8(ascii: "0") || tar[off + 156] == 0, size > 2000 {
                return off + 512
            }
            off += 512 + (size + 511) / 512 * 512
        }
        return nil
    }
}
