import Foundation
import Testing

/// `cove import` and `cove save`: a busybox rootfs tarball imported, run,
/// its config compared with `podman import` of the same tarball, saved in
/// both formats and read back by podman, skopeo and `cove load`.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct ImportSaveTests {
    struct Tarballs {
        let dir: String
        var plain: String { dir + "/rootfs.tar" }
        var gzip: String { dir + "/rootfs.tar.gz" }
        var zstd: String { dir + "/rootfs.tar.zst" }
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static let prepared: Result<Tarballs, Error> = Result {
        let dir = try Harness.temporaryDirectory("import")
        try Harness.makeRootfs(at: dir + "/rootfs")
        let t = Tarballs(dir: dir)
        for (args, what) in [(["--owner=0", "--group=0", "-C", dir + "/rootfs", "-cf", t.plain, "."], "tar"),
                             (["--owner=0", "--group=0", "-C", dir + "/rootfs", "-czf", t.gzip, "."], "tar -z"),
                             (["--owner=0", "--group=0", "--zstd", "-C", dir + "/rootfs", "-cf", t.zstd, "."], "tar --zstd")] {
            let r = try Harness.run("/bin/tar", args)
            guard r.status == 0 else { throw Failure(description: "\(what): \(r.stderr)") }
        }
        return t
    }

    /// A fresh store (images) and runtime directory (containers).
    struct Store {
        let dir: String
        func cove(_ args: [String], timeout: Double = 120) throws -> Harness.Output {
            try Harness.run(Harness.binary("cove"), ["--root", dir + "/root", "--runroot", dir + "/run"] + args, timeout: timeout)
        }
        func shell(_ script: String) throws -> Harness.Output {
            try Harness.run("/bin/sh", ["-c", script], env: ["COVE": Harness.binary("cove"), "D": dir], timeout: 120)
        }
        func remove() { try? FileManager.default.removeItem(atPath: dir) }
        var blobs: [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/root/blobs/sha256").sorted()) ?? [] }
        var ingest: [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir + "/root/ingest")) ?? [] }
        var index: Data? { try? Data(contentsOf: URL(fileURLWithPath: dir + "/root/images.json")) }
    }

    func newStore() throws -> Store { Store(dir: try Harness.temporaryDirectory("impstore")) }

    static func isImageID(_ line: String) -> Bool {
        line.hasPrefix("sha256:") && line.count == 71 && line.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    @Test(arguments: ["plain", "gzip", "zstd", "stdin"])
    func anImportedTarballRuns(kind: String) throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let imp: Harness.Output
        switch kind {
        case "gzip": imp = try s.cove(["import", "--change", "ENV=PATH=/bin", t.gzip, "imp"])
        case "zstd": imp = try s.cove(["import", "-c", "ENV PATH=/bin", t.zstd, "imp"])
        case "stdin": imp = try s.shell("\"$COVE\" --root \"$D/root\" --runroot \"$D/run\" import -c 'ENV PATH=/bin' - imp < \(t.gzip)")
        default: imp = try s.cove(["import", "--change", "ENV=PATH=/bin", t.plain, "imp"])
        }
        #expect(imp.status == 0, "\(imp.stderr)")
        let id = imp.stdout.trimmingCharacters(in: .newlines)
        #expect(Self.isImageID(id), "\(imp.stdout)")
        let images = try s.cove(["images"])
        #expect(images.stdout.contains("localhost/imp"), "\(images.stdout)")
        #expect(images.stdout.contains(String(id.dropFirst(7).prefix(12))), "\(images.stdout)")
        let run = try s.cove(["run", "--rm", "--network", "none", "imp", "sh", "-c", "echo hello from $(cat /etc/group | head -1)"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "hello from root:x:0:\n")
        #expect(s.ingest.isEmpty)
    }

    @Test func withoutANameTheImageIsUnnamedAndUsableByID() throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let imp = try s.cove(["import", "-c", "ENV PATH=/bin", "-m", "no name", t.plain])
        #expect(imp.status == 0, "\(imp.stderr)")
        let id = String(imp.stdout.trimmingCharacters(in: .newlines).dropFirst(7))
        let q = try s.cove(["images", "-q"])
        #expect(q.stdout == String(id.prefix(12)) + "\n", "\(q.stdout)")
        let rows = try s.cove(["images"]).stdout.split(separator: "\n")
        #expect(rows.count == 2 && rows[1].hasPrefix("<none>"), "\(rows)")
        let run = try s.cove(["run", "--rm", "--network", "none", String(id.prefix(12)), "echo", "by id"])
        #expect(run.stdout == "by id\n", "\(run.stderr)")
    }

    /// A short name finds the imported (localhost/) image in inspect, tag
    /// and rmi, as in podman.
    @Test func shortNamesFindLocalImages() throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        #expect(try s.cove(["import", "-c", "ENV PATH=/bin", t.plain, "short"]).status == 0)
        let inspect = try s.cove(["image", "inspect", "short"])
        #expect(inspect.status == 0 && inspect.stdout.contains("localhost/short:latest"), "\(inspect.stderr)")
        let tag = try s.cove(["tag", "short", "localhost/other:1"])
        #expect(tag.status == 0, "\(tag.stderr)")
        let rmi = try s.cove(["rmi", "short"])
        #expect(rmi.status == 0, "\(rmi.stderr)")
        let left = try s.cove(["images"]).stdout
        #expect(!left.contains("localhost/short") && left.contains("localhost/other"), "\(left)")
    }

    /// The same --change lines given to podman import and to cove import of
    /// the same tarball: the image configs' Config parts are equal.
    @Test func changesAreReadAsPodmanReadsThem() throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let changes = ["ENV=PATH=/bin", #"ENV A="x y""#, "ENV B", "ENV PATH=/usr/bin:/bin",
                       "CMD echo hi", #"ENTRYPOINT ["/bin/sh","-c"]"#,
                       "WORKDIR /a", "WORKDIR b", "USER 1000:1000", "LABEL k=v", #"LABEL "q"="w z""#,
                       "EXPOSE 80", "EXPOSE 53/udp", "STOPSIGNAL SIGTERM", "VOLUME /data"]
        let name = "localhost/cove-it-import-\(getpid()):latest"
        var args = ["import"]
        for c in changes { args += ["--change", c] }
        let p = try Harness.run("/usr/bin/podman", args + ["--message", "compared", t.plain, name], timeout: 180)
        try #require(p.status == 0, "podman import: \(p.stderr)")
        defer { _ = try? Harness.run("/usr/bin/podman", ["rmi", "-f", name], timeout: 120) }
        let c = try s.cove(args + ["--message", "compared", t.plain, name])
        try #require(c.status == 0, "\(c.stderr)")

        let podmanJSON = try Harness.run("/usr/bin/podman", ["image", "inspect", name])
        let coveJSON = try s.cove(["image", "inspect", name])
        #expect(coveJSON.status == 0, "\(coveJSON.stderr)")
        let pi = try #require((try JSONSerialization.jsonObject(with: Data(podmanJSON.stdout.utf8)) as? [[String: Any]])?.first)
        let ci = try #require((try JSONSerialization.jsonObject(with: Data(coveJSON.stdout.utf8)) as? [[String: Any]])?.first)
        let pc = try #require(pi["Config"] as? [String: Any])
        let cc = try #require(ci["Config"] as? [String: Any])
        #expect(NSDictionary(dictionary: pc).isEqual(to: cc), "podman: \(pc)\ncove: \(cc)")
        #expect((cc["Env"] as? [String]) == ["PATH=/bin", "A=x y", "B=", "PATH=/usr/bin:/bin"])
        #expect(cc["StopSignal"] as? String == "15")
        // The layer is the same tar: podman's and cove's diff_ids agree.
        let pRoot = (pi["RootFS"] as? [String: Any])?["Layers"] as? [String]
        let cRoot = (ci["RootFS"] as? [String: Any])?["diff_ids"] as? [String]
        #expect(pRoot?.count == 1 && cRoot?.count == 1)
    }

    @Test(arguments: [
        (#"BOGUS x"#, "BOGUS is not one of"),
        ("EXPOSE 99999", "is not a port"),
        ("STOPSIGNAL NOPE", "is not a signal"),
        ("LABEL novalue", "LABEL needs key=value"),
        ("nothing", "write it as INSTRUCTION VALUE"),
    ])
    func aBadChangeIsOneLineAndStoresNothing(change: String, message: String) throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let r = try s.cove(["import", "--change", change, t.plain, "bad"])
        #expect(r.status == 125)
        #expect(r.stderr.hasPrefix("Error: invalid change \"\(change)\": "), "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(s.blobs.isEmpty)
    }

    /// Not a tar, a truncated gzip, an empty file, a missing file: one line,
    /// exit 125, and the store as it was (an image imported before stays).
    @Test(arguments: ["not-a-tar", "truncated-gzip", "empty", "missing"])
    func badInputIsRefusedAndTheStoreIsUnchanged(kind: String) throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let good = try s.cove(["import", "-c", "ENV PATH=/bin", t.plain, "good"])
        try #require(good.status == 0, "\(good.stderr)")
        let blobs = s.blobs, index = s.index
        let bad = s.dir + "/bad"
        switch kind {
        case "not-a-tar":
            try Data(String(repeating: "this is not a tar archive\n", count: 100).utf8).write(to: URL(fileURLWithPath: bad))
        case "truncated-gzip":
            let whole = try Data(contentsOf: URL(fileURLWithPath: t.gzip))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: bad))
        case "empty":
            try Data().write(to: URL(fileURLWithPath: bad))
        default:
            break
        }
        let r = try s.cove(["import", bad, "bad"])
        #expect(r.status == 125)
        #expect(r.stderr.hasPrefix("Error: import \(bad): "), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(s.blobs == blobs)
        #expect(s.index == index)
        #expect(s.ingest.isEmpty)
        #expect(try s.cove(["images", "-q"]).stdout.split(separator: "\n").count == 1)
    }

    /// `cove save` in both formats; podman loads each and runs the image,
    /// skopeo reads it, and `cove load` into a fresh store gives the same ID.
    @Test(arguments: ["docker-archive", "oci-archive"])
    func aSavedImageLoadsInPodmanSkopeoAndCove(format: String) throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let name = "localhost/cove-it-save-\(format)-\(getpid()):latest"
        let imp = try s.cove(["import", "-c", "ENV PATH=/bin", "-c", #"CMD ["echo", "saved by cove"]"#, t.gzip, name])
        try #require(imp.status == 0, "\(imp.stderr)")
        let id = String(imp.stdout.trimmingCharacters(in: .newlines).dropFirst(7))
        let file = s.dir + "/saved.tar"
        let save = try s.cove(["save", "--format", format, "-o", file, name])
        #expect(save.status == 0, "\(save.stderr)")
        #expect(save.stdout.isEmpty)
        // Written to a temporary name and renamed: nothing else is left.
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.dir).filter { $0.hasPrefix(".saved") }.isEmpty)

        let sk = try Harness.run("/usr/bin/skopeo", ["inspect", "--config", "\(format):\(file)"])
        #expect(sk.status == 0, "\(sk.stderr)")
        #expect(sk.stdout.contains("saved by cove"))

        defer { _ = try? Harness.run("/usr/bin/podman", ["rmi", "-f", name], timeout: 120) }
        let load = try Harness.run("/usr/bin/podman", ["load", "-i", file], timeout: 180)
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout.contains(name) || load.stdout.contains(id), "\(load.stdout)")
        let pid = try Harness.run("/usr/bin/podman", ["images", "--no-trunc", "--format", "{{.ID}}", name])
        #expect(pid.stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "sha256:", with: "") == id)
        let run = try Harness.run("/usr/bin/podman", ["run", "--rm", "--network", "none", name], timeout: 180)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "saved by cove\n")

        let s2 = try newStore()
        defer { s2.remove() }
        let back = try s2.cove(["load", "-i", file])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdout == "Loaded image: \(name)\n", "\(back.stdout)")
        #expect(try s2.cove(["images", "-q"]).stdout == String(id.prefix(12)) + "\n")
        let again = try s2.cove(["run", "--rm", "--network", "none", name])
        #expect(again.stdout == "saved by cove\n", "\(again.stderr)")
    }

    /// Two images in one archive; an unknown image or format fails with
    /// one line and writes no file.
    @Test func savingSeveralImagesAndAnUnknownOne() throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        #expect(try s.cove(["import", "-c", "ENV PATH=/bin", t.plain, "one"]).status == 0)
        #expect(try s.cove(["import", "-c", "ENV PATH=/bin", "-c", "USER 1", t.zstd, "two"]).status == 0)
        let file = s.dir + "/two.tar"
        let both = try s.cove(["save", "-o", file, "one", "two"])
        #expect(both.status == 0, "\(both.stderr)")
        let s2 = try newStore()
        defer { s2.remove() }
        let back = try s2.cove(["load", "-i", file])
        #expect(back.stdout == "Loaded image: localhost/one:latest\nLoaded image: localhost/two:latest\n", "\(back.stdout) \(back.stderr)")

        let missing = s.dir + "/missing.tar"
        let bad = try s.cove(["save", "-o", missing, "one", "no-such-image"])
        #expect(bad.status == 125)
        #expect(bad.stderr == "Error: no-such-image: image not known; see `cove images`\n")
        #expect(!FileManager.default.fileExists(atPath: missing))
        let badFormat = try s.cove(["save", "--format", "tarball", "-o", missing, "one"])
        #expect(badFormat.status == 125)
        #expect(badFormat.stderr.contains("unknown format \"tarball\""), "\(badFormat.stderr)")
    }

    /// An image with a gzip layer (compressed by skopeo), loaded and saved again as a docker-archive: the layer
    /// comes out as a plain tar named by its diff_id, and podman runs it.
    @Test func aCompressedLayerIsSavedUncompressedInADockerArchive() throws {
        let t = try Self.prepared.get()
        let s = try newStore()
        defer { s.remove() }
        let name = "localhost/cove-it-gz-\(getpid()):latest"
        #expect(try s.cove(["import", "-c", "ENV PATH=/bin", "-c", #"CMD ["echo", "was gzip"]"#, t.plain, name]).status == 0)
        let plain = s.dir + "/plain.tar", gz = s.dir + "/gz.tar", out = s.dir + "/out.tar"
        #expect(try s.cove(["save", "-o", plain, name]).status == 0)
        // skopeo compresses layers on their way into a dir: layout; an
        // oci-archive made from that keeps them compressed.
        for (from, to) in [("docker-archive:\(plain)", "dir:\(s.dir)/gzdir"), ("dir:\(s.dir)/gzdir", "oci-archive:\(gz):\(name)")] {
            let copy = try Harness.run("/usr/bin/skopeo", ["copy", "-q", "--dest-compress", from, to], timeout: 180)
            try #require(copy.status == 0, "\(copy.stderr)")
        }
        let s2 = try newStore()
        defer { s2.remove() }
        let load = try s2.cove(["load", "-i", gz])
        try #require(load.status == 0, "\(load.stderr)")
        let inspect = try s2.cove(["image", "inspect", name])
        let gzipLayer = try Harness.run("/bin/sh", ["-c", "grep -l -a 'layer.v1.tar+gzip' \(s2.dir)/root/blobs/sha256/*"])
        #expect(gzipLayer.status == 0, "no gzip layer: \(inspect.stdout)")
        let save = try s2.cove(["save", "-o", out, name])
        #expect(save.status == 0, "\(save.stderr)")
        #expect(s2.ingest.isEmpty)
        defer { _ = try? Harness.run("/usr/bin/podman", ["rmi", "-f", name], timeout: 120) }
        let pl = try Harness.run("/usr/bin/podman", ["load", "-i", out], timeout: 180)
        #expect(pl.status == 0, "\(pl.stderr)")
        let run = try Harness.run("/usr/bin/podman", ["run", "--rm", "--network", "none", name], timeout: 180)
        #expect(run.stdout == "was gzip\n", "\(run.stderr)")
    }
}
