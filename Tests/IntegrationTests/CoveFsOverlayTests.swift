import Foundation
import Testing

/// Whiteouts and opaque directories as cove-fs writes them, read by the two
/// overlays that will stack them (the kernel's with userxattr in a user
/// namespace, and fuse-overlayfs) and applied by the copy driver: all three
/// give one merged tree.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: Harness.hasSubordinateIDs, Harness.subordinateNote))
struct CoveFsOverlayTests {
    static var lower: [[String: Any]] { [
        ["name": "a/", "type": "dir"], ["name": "a/x", "data": "x"], ["name": "a/y", "data": "y", "uid": 7],
        ["name": "a/y2", "type": "hardlink", "link": "a/y"],
        ["name": "d/", "type": "dir", "mode": 0o750], ["name": "d/old1", "data": "1"], ["name": "d/sub/", "type": "dir"],
        ["name": "d/sub/old2", "data": "2"],
        ["name": "f", "data": "f"], ["name": "keep", "data": "k"], ["name": "gone-dir/", "type": "dir"],
        ["name": "gone-dir/inside", "data": "i"],
    ] }
    static var upper: [[String: Any]] { [
        ["name": "a/.wh.x"], ["name": "d/.wh..wh..opq"], ["name": "d/new", "data": "n"], ["name": ".wh.f"],
        ["name": ".wh.gone-dir"], ["name": "newfile", "data": "new", "mode": 0o4755],
    ] }

    /// The merged tree, by tree-listing.py, owners and modes included.
    static var merged: String {
        func h(_ s: String) -> String { CoveFsUnpackTests.h(s) }
        return """
            a dir 755 0:0
            a/y file 644 7:0 \(h("y")) links=2
            a/y2 file 644 7:0 \(h("y")) links=2
            d dir 750 0:0
            d/new file 644 0:0 \(h("n")) links=1
            keep file 644 0:0 \(h("k")) links=1
            newfile file 4755 0:0 \(h("new")) links=1
            """ + "\n"
    }

    func twoLayers() throws -> LayerStore {
        let store = try LayerStore("overlay")
        let r1 = try store.unpack(try store.layer(Self.lower), into: "low")
        try #require(r1.status == 0, "\(r1.stderr)")
        let r2 = try store.unpack(try store.layer(Self.upper, compression: "gzip"), into: "up", lowers: ["low"])
        try #require(r2.status == 0, "\(r2.stderr)")
        return store
    }

    @Test func whiteoutsAreCharDevicesAndOpaqueIsAUserXattr() throws {
        let store = try twoLayers()
        let listing = try LayerStore.listing(store.layers + "/up")
        #expect(listing.contains("a/x char 0 0:0 0:0\n"))
        #expect(listing.contains("f char 0 0:0 0:0\n"))
        let x = try LayerStore.inNamespace("python3 -c \"import os;print(os.getxattr('\(store.layers)/up/d','user.overlay.opaque').decode())\"")
        #expect(x.stdout == "y\n", "\(x.stderr)")
    }

    @Test func theKernelOverlayHonoursThem() throws {
        let store = try twoLayers()
        let m = store.dir + "/merged"
        let r = try LayerStore.inNamespace("""
            set -e; mkdir '\(m)'
            mount -t overlay overlay -o 'lowerdir=\(store.layers)/up:\(store.layers)/low,userxattr' '\(m)'
            python3 '\(LayerStore.lister)' '\(m)'
            umount '\(m)'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.merged)
    }

    @Test func fuseOverlayfsHonoursThemAndEndsWithItsMount() throws {
        let store = try twoLayers()
        let m = store.dir + "/merged"
        let r = try LayerStore.inNamespace("""
            set -e; mkdir '\(m)'
            fuse-overlayfs -o 'lowerdir=\(store.layers)/up:\(store.layers)/low' '\(m)'
            python3 '\(LayerStore.lister)' '\(m)'
            umount '\(m)'
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.merged)
        // The daemon exits once unmounted: bounded wait for it to be gone.
        var left: [String] = []
        for _ in 0..<200 {
            left = Self.processes(mentioning: m)
            if left.isEmpty { break }
            usleep(25_000)
        }
        #expect(left.isEmpty, "fuse-overlayfs still running: \(left)")
    }

    static func processes(mentioning text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        return pids.compactMap { pid in
            guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let cmd = String(decoding: d.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return cmd.contains(text) && cmd.contains("fuse-overlayfs") ? "\(pid): \(cmd)" : nil
        }
    }

    @Test func theCopyDriverAppliesThemWithHardlinksKept() throws {
        let store = try twoLayers()
        let r = try Harness.run(Harness.binary("cove-fs"), ["copy", "--layer", store.layers + "/low", "--layer",
                                                           store.layers + "/up", "--into", store.dir + "/rootfs"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try LayerStore.listing(store.dir + "/rootfs") == Self.merged)
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: store.dir)) ?? []).contains { $0.hasPrefix(".tmp-") })
        // The overlay's own xattr is not copied into a plain tree.
        let x = try LayerStore.inNamespace("python3 -c \"import os;print(os.listxattr('\(store.dir)/rootfs/d'))\"")
        #expect(x.stdout == "[]\n", "\(x.stderr)")
    }
}

/// cove-fs probe and cove-fs remove.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: Harness.hasSubordinateIDs, Harness.subordinateNote))
struct CoveFsProbeRemoveTests {
    @Test func probeFindsTheKernelOverlayHere() throws {
        let store = try LayerStore("probe")
        let r = try Harness.run(Harness.binary("cove-fs"), ["probe", "--dir", store.dir])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 1)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(json?["driver"] as? String == "overlay", "\(r.stdout)")
        #expect((json?["reason"] as? String)?.contains("kernel overlay") == true)
        #expect(json?["reflink"] is Bool)
        // Its scratch directories are gone.
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: store.dir)) ?? []).sorted() == ["canary", "layers"])
    }

    @Test func removeDeletesWhatOnlyTheNamespaceCan() throws {
        let store = try LayerStore("remove")
        let l = try store.layer([["name": "home/u/", "type": "dir", "mode": 0o700, "uid": 1000, "gid": 1000],
                                 ["name": "home/u/secret", "data": "s", "uid": 1000]])
        try #require(try store.unpack(l, into: "owned").status == 0)
        let target = store.layers + "/owned"
        #expect(throws: (any Error).self) { try FileManager.default.removeItem(atPath: target) }
        let r = try Harness.run(Harness.binary("cove-fs"), ["remove", target])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test func removeRefusesRootAndOthersPaths() throws {
        let root = try Harness.run(Harness.binary("cove-fs"), ["remove", "/"])
        #expect(root.status == 125)
        #expect(root.stderr == "cove-fs: remove /: refused\n")
        let etc = try Harness.run(Harness.binary("cove-fs"), ["remove", "/etc"])
        #expect(etc.status == 125)
        #expect(etc.stderr == "cove-fs: remove /etc: owned by uid 0, not by the caller (uid \(getuid())); refused\n")
        #expect(FileManager.default.fileExists(atPath: "/etc/passwd"))
    }
}
