import CoveModel
import Foundation
import Testing

/// cove-fs unpack: what a layer holds arrives as a container will see it,
/// checked against its diff_id in the same pass, compressed or not.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: Harness.hasSubordinateIDs, Harness.subordinateNote))
struct CoveFsUnpackTests {
    static var sample: [[String: Any]] { [
        ["name": "./", "type": "dir", "mode": 0o755],
        ["name": "etc/", "type": "dir", "mode": 0o755],
        ["name": "etc/passwd", "data": "root:x:0:0::/root:/bin/sh\n"],
        ["name": "home/u/", "type": "dir", "mode": 0o700, "uid": 1000, "gid": 1000],
        ["name": "home/u/notes", "data": "mine\n", "mode": 0o600, "uid": 1000, "gid": 100,
         "xattrs": ["user.origin": "test"]],
        ["name": "bin/su", "data": "#!/bin/sh\n", "mode": 0o4755],
        ["name": "bin/sg", "data": "g", "mode": 0o2711, "gid": 42],
        ["name": "bin/su-again", "type": "hardlink", "link": "bin/su"],
        ["name": "bin/sh", "type": "symlink", "link": "/bin/busybox"],
        // cap_net_raw+ep, as VFS_CAP_REVISION_2 (setcap cap_net_raw+ep).
        ["name": "bin/ping", "data": "p", "mode": 0o755,
         "xattrs": ["security.capability": "\u{1}\0\0\u{2}\0 \0\0" + String(repeating: "\0", count: 12)]],
        ["name": "tmp/", "type": "dir", "mode": 0o1777],
        ["name": "run/pipe", "type": "fifo", "mode": 0o640],
        ["name": "dev/null", "type": "char", "mode": 0o666],
        ["name": "big", "size": 3 << 20],
    ] }

    static func h(_ bytes: [UInt8]) -> String { String(SHA256.hex(bytes).prefix(16)) }
    static func h(_ s: String) -> String { h(Array(s.utf8)) }

    /// What tree-listing.py prints for `sample`, seen from inside the user
    /// namespace: owners as the image gave them, modes with their special
    /// bits, the hardlink pair sharing one inode.
    static let expected = """
        big file 644 0:0 \(h([UInt8](repeating: 0, count: 3 << 20))) links=1
        bin dir 755 0:0
        bin/ping file 755 0:0 \(h("p")) links=1
        bin/sg file 2711 0:42 \(h("g")) links=1
        bin/sh symlink 777 0:0 /bin/busybox
        bin/su file 4755 0:0 \(h("#!/bin/sh\n")) links=2
        bin/su-again file 4755 0:0 \(h("#!/bin/sh\n")) links=2
        dev dir 755 0:0
        etc dir 755 0:0
        etc/passwd file 644 0:0 \(h("root:x:0:0::/root:/bin/sh\n")) links=1
        home dir 755 0:0
        home/u dir 700 1000:1000
        home/u/notes file 600 1000:100 \(h("mine\n")) links=1
        run dir 755 0:0
        run/pipe fifo 640 0:0
        tmp dir 1777 0:0
        """ + "\n"

    @Test(arguments: ["none", "gzip", "zstd"])
    func aLayerArrivesWithOwnersModesLinksAndXattrs(compression: String) throws {
        let store = try LayerStore()
        let l = try store.layer(CoveFsUnpackTests.sample, compression: compression)
        let r = try store.unpack(l, into: "one")
        #expect(r.status == 0, "\(r.stderr)")
        // The device node is skipped, in one note line.
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains("1 device node(s) or socket(s) skipped"))
        let listing = try LayerStore.listing(store.layers + "/one")
        #expect(listing == Self.expected)
        let x = try LayerStore.inNamespace("python3 -c \"import os;print(os.getxattr('\(store.layers)/one/home/u/notes','user.origin').decode())\"")
        #expect(x.stdout == "test\n", "\(x.stderr)")
        // The file capability survives (set after chown, which clears it).
        let cap = try LayerStore.inNamespace("python3 -c \"import os;print(os.getxattr('\(store.layers)/one/bin/ping','security.capability').hex())\"")
        #expect(cap.stdout == "0100000200200000000000000000000000000000\n", "\(cap.stderr)")
        // Times as the layer gave them, directories' too (set after their content).
        for p in ["etc", "etc/passwd", "bin/su"] {
            let date = try FileManager.default.attributesOfItem(atPath: store.layers + "/one/" + p)[.modificationDate] as? Date
            #expect(date?.timeIntervalSince1970 == 1_600_000_000, "\(p)")
        }
        #expect(store.layerNames() == ["one"])
    }

    @Test func aWrongDiffIDIsRefusedAndLeavesNothing() throws {
        let store = try LayerStore()
        let l = try store.layer([["name": "a", "data": "x"]], compression: "gzip")
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        let r = try store.unpack(l, into: "bad", diffID: wrong)
        #expect(r.status == 125)
        #expect(r.stderr == "cove-fs: layer \(l.diffID) does not match its diff_id \(wrong) (blob \(l.blob)); refused\n")
        #expect(store.layerNames().isEmpty)
    }

    @Test func anotherCompressionIsRefusedByName() throws {
        let store = try LayerStore()
        let l = try store.layer([["name": "a", "data": "x"]], compression: "xz")
        let r = try store.unpack(l, into: "xz")
        #expect(r.status == 125)
        #expect(r.stderr == "cove-fs: layer \(l.diffID) (blob \(l.blob)): not a tar archive, plain or compressed "
                + "with gzip or zstd: Unrecognized archive format\n")
        #expect(store.layerNames().isEmpty)
    }

    @Test func namesOutsideASCIIArriveUnchanged() throws {
        let store = try LayerStore()
        let name = "caf\u{E9}/na\u{EF}ve \u{2615}"
        let l = try store.layer([["name": name, "data": "x"]], compression: "gzip")
        let r = try store.unpack(l, into: "utf8")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: store.layers + "/utf8/" + name))
    }

    @Test func aLaterEntryOfTheSameNameReplacesTheEarlier() throws {
        let store = try LayerStore()
        let l = try store.layer([
            ["name": "x", "data": "1"], ["name": "x", "data": "2"],
            ["name": "d/", "type": "dir"], ["name": "d/in", "data": "i"], ["name": "d", "data": "now"],
            ["name": "e", "data": "e"], ["name": "e/", "type": "dir", "mode": 0o711], ["name": "e/f", "data": "f"],
            ["name": "l", "type": "symlink", "link": "x"], ["name": "l", "type": "hardlink", "link": "x"],
        ])
        let r = try store.unpack(l, into: "again")
        #expect(r.status == 0, "\(r.stderr)")
        let h = Self.h as (String) -> String
        #expect(try LayerStore.listing(store.layers + "/again") == """
            d file 644 0:0 \(h("now")) links=1
            e dir 711 0:0
            e/f file 644 0:0 \(h("f")) links=1
            l file 644 0:0 \(h("2")) links=2
            x file 644 0:0 \(h("2")) links=2
            """ + "\n")
    }

    @Test func anExistingTargetIsRefused() throws {
        let store = try LayerStore()
        let l = try store.layer([["name": "a", "data": "x"]])
        #expect(try store.unpack(l, into: "x").status == 0)
        let r = try store.unpack(l, into: "x")
        #expect(r.status == 125)
        #expect(r.stderr.contains("exists already"))
        #expect(store.layerNames() == ["x"])
    }

    @Test func aStaleTemporaryOfADeadProcessIsCleaned() throws {
        let store = try LayerStore()
        // A pid that does not run: above pid_max's usual ceiling.
        let stale = store.layers + "/.tmp-4194303-abc"
        try FileManager.default.createDirectory(atPath: stale + "/sub", withIntermediateDirectories: true)
        let l = try store.layer([["name": "a", "data": "x"]])
        #expect(try store.unpack(l, into: "fresh").status == 0)
        #expect(store.layerNames() == ["fresh"])
    }

    @Test func aBadDiffIDSpellingAndAMissingBlobSayWhat() throws {
        let store = try LayerStore()
        let r1 = try Harness.run(Harness.binary("cove-fs"), ["unpack", "--blob", "/nonexistent", "--diff-id", "md5:1",
                                                               "--into", store.layers + "/x"])
        #expect(r1.status == 125)
        #expect(r1.stderr == "cove-fs: --diff-id md5:1: not sha256: and 64 lower-case hex digits\n")
        let r2 = try Harness.run(Harness.binary("cove-fs"), ["unpack", "--blob", store.dir + "/none.tar", "--diff-id",
                                                               "sha256:" + String(repeating: "a", count: 64),
                                                               "--into", store.layers + "/x"])
        #expect(r2.status == 125)
        #expect(r2.stderr.hasPrefix("cove-fs: open \(store.dir)/none.tar: No such file or directory"))
        #expect(r2.stderr.split(separator: "\n").count == 1)
        #expect(store.layerNames().isEmpty)
    }
}
