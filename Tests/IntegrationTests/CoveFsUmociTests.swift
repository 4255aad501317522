import Foundation
import Testing

/// cove-fs against a reference: an image built and changed with umoci
/// (files, directories, a symlink, a setuid file and its hardlink; then a
/// deleted file, a directory replaced by a file, a new file and a changed
/// mode), unpacked layer by layer with cove-fs and merged by the kernel's
/// overlay, must list as `umoci unpack --rootless` unpacks it.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: Harness.hasSubordinateIDs, Harness.subordinateNote))
struct CoveFsUmociTests {
    static let build = """
        set -e
        umoci init --layout img
        umoci new --image img:t
        umoci unpack --rootless --image img:t b1
        r=b1/rootfs
        mkdir -p $r/etc $r/d/sub $r/bin $r/var/empty
        echo hello > $r/etc/hello
        echo a > $r/d/sub/f
        printf 'tool' > $r/bin/tool && chmod 4755 $r/bin/tool
        ln $r/bin/tool $r/bin/tool2
        ln -s ../etc/hello $r/bin/link
        ln -s /nowhere $r/dangling
        echo gone > $r/gone
        chmod 1777 $r/var/empty
        umoci repack --image img:t b1
        rm -rf b1
        umoci unpack --rootless --image img:t b2
        r=b2/rootfs
        rm $r/gone
        rm -r $r/d
        echo now-a-file > $r/d
        echo more > $r/etc/more
        chmod 700 $r/etc
        echo changed > $r/etc/hello
        umoci repack --image img:t b2
        rm -rf b2
        umoci unpack --rootless --image img:t ref
        """

    @Test func theMergedLayersListAsUmociUnpacksThem() throws {
        let store = try LayerStore("umoci")
        let b = try Harness.run("/bin/bash", ["-c", Self.build], cwd: store.dir, timeout: 120)
        try #require(b.status == 0, "umoci: \(b.stderr)")

        // index.json → manifest → the layers, with diff_ids from the config.
        func blob(_ digest: String) throws -> [String: Any] {
            let path = store.dir + "/img/blobs/sha256/" + digest.dropFirst("sha256:".count)
            return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
        }
        let index = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: store.dir + "/img/index.json"))) as? [String: Any] ?? [:]
        let manifestDigest = try #require(((index["manifests"] as? [[String: Any]])?.first?["digest"]) as? String)
        let manifest = try blob(manifestDigest)
        let layers = try #require(manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
        let configDigest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
        let diffIDs = try #require((try blob(configDigest)["rootfs"] as? [String: Any])?["diff_ids"] as? [String])
        try #require(layers.count == 2 && diffIDs.count == 2)

        var below: [String] = []
        for (i, (digest, diffID)) in zip(layers, diffIDs).enumerated() {
            let l = LayerStore.Layer(blob: store.dir + "/img/blobs/sha256/" + digest.dropFirst(7), diffID: diffID)
            let r = try store.unpack(l, into: "l\(i)", lowers: below)
            #expect(r.status == 0, "layer \(i): \(r.stderr)")
            below.insert("l\(i)", at: 0)
        }
        let lowerdir = below.map { store.layers + "/" + $0 }.joined(separator: ":")
        let m = store.dir + "/merged"
        let merged = try LayerStore.inNamespace("""
            set -e; mkdir '\(m)'
            mount -t overlay overlay -o 'lowerdir=\(lowerdir),userxattr' '\(m)'
            python3 '\(LayerStore.lister)' '\(m)'
            umount '\(m)'
            """)
        #expect(merged.status == 0, "\(merged.stderr)")
        let reference = try LayerStore.listing(store.dir + "/ref/rootfs")
        #expect(merged.stdout == reference)
        // The reference holds what the build made, so the comparison means something.
        #expect(reference.contains("bin/tool file 4755 0:0"))
        #expect(reference.contains("links=2"))
        #expect(reference.contains("d file 644"))
        #expect(reference.contains("var/empty dir 1777"))
        #expect(!reference.contains("gone"))
    }
}
