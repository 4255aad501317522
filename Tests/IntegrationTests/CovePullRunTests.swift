import Foundation
import Testing

/// The whole path: an image built here (busybox plus layers with a
/// whiteout, an opaque directory, links, gzip/zstd/plain) pushed to a real
/// registry on loopback; `cove run` pulls it, cove-fs unpacks it, the
/// kernel overlay stacks it and the container sees the merged tree.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: TestRegistry.available, "needs docker-registry, skopeo and python3 (scripts/prepare-host.sh)"))
struct CovePullRunTests {
    @Test func runPullsUnpacksAndRunsAMultiLayerImage() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let rootfs = try Harness.temporaryDirectory("pullrun-rootfs")
        defer { try? FileManager.default.removeItem(atPath: rootfs) }
        try Harness.makeRootfs(at: rootfs)
        var description = PullTests.multiLayer
        var layers = description["layers"] as? [[String: Any]] ?? []
        layers.insert(["compression": "gzip", "directory": rootfs], at: 0)
        description["layers"] = layers
        description["config"] = ["Env": ["PATH=/bin"], "Cmd": ["cat", "/srv/data"], "WorkingDir": "/srv"]
        let pushed = try PullTests.push(description, to: registry, name: "cove/runme")
        let scratch = try PullTests.Scratch()
        let root = ["--root", scratch.root, "--runroot", scratch.dir + "/run"]

        let never = try scratch.cove(root + ["run", "--rm", "--pull=never", "--network", "none", pushed.ref])
        #expect(never.status == 125 && never.stderr.contains("--pull=never"), "\(never.stderr)")

        // The image's own cmd and workdir, pulled on first use.
        let first = try scratch.cove(root + ["run", "--rm", "--network", "none", pushed.ref])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout == "plain tar layer\n")
        #expect(first.stderr.contains("Writing manifest"), "\(first.stderr)")

        // The merged tree: the whiteout hides /etc/motd, the opaque dir
        // hides old content, links survive; the image's busybox runs it all.
        let script = """
            test ! -e /etc/motd && echo motd-gone; ls /var/cache; cat /etc/motd.hard; \
            readlink /etc/motd.link; /bin/tool; pwd
            """
        let merged = try scratch.cove(root + ["run", "--rm", "--network", "none", pushed.ref, "sh", "-c", script])
        #expect(merged.status == 0, "\(merged.stderr)")
        #expect(merged.stdout == "motd-gone\nnew\nhello from layer one\nmotd\ntool\n/srv\n")
        // Second run: nothing pulled again.
        #expect(!merged.stderr.contains("Writing manifest"))
        let layerDirs = try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/layers").filter { !$0.hasPrefix(".") }
        #expect(layerDirs.count == 4)
        // A container made from the image keeps it from rmi (docker's rule)…
        let kept = try scratch.cove(root + ["create", "--name", "keeper", "--network", "none", pushed.ref])
        #expect(kept.status == 0, "\(kept.stderr)")
        let refused = try scratch.cove(root + ["rmi", pushed.ref])
        #expect(refused.status == 125 && refused.stderr.contains("keeper"), "\(refused.stderr)")
        #expect(try scratch.cove(root + ["rm", "keeper"]).status == 0)
        // …and once it is gone, rmi takes the blobs and the unpacked layers.
        let rmi = try scratch.cove(root + ["rmi", pushed.ref])
        #expect(rmi.status == 0, "\(rmi.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/layers").filter { !$0.hasPrefix(".") }
        #expect(left.isEmpty, "\(left)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root + "/blobs/sha256").isEmpty)
    }

    /// An image of 70 layers (docker allows 127): absolute lowerdirs would
    /// overflow the kernel's page of mount data at about 37.
    @Test func aManyLayeredImageRuns() throws {
        let registry = try TestRegistry()
        defer { registry.stop() }
        let rootfs = try Harness.temporaryDirectory("deep-rootfs")
        defer { try? FileManager.default.removeItem(atPath: rootfs) }
        try Harness.makeRootfs(at: rootfs)
        var layers: [[String: Any]] = [["compression": "gzip", "directory": rootfs]]
        for i in 1..<70 {
            layers.append(["compression": "none", "entries": [PullTests.entry("deep/\(i)", content: "\(i)\n")]])
        }
        let pushed = try PullTests.push(["config": ["Env": ["PATH=/bin"]], "layers": layers], to: registry, name: "cove/deep")
        let scratch = try PullTests.Scratch()
        let r = try scratch.cove(["--root", scratch.root, "--runroot", scratch.dir + "/run", "run", "--rm", "--network", "none",
                                  pushed.ref, "sh", "-c", "ls /deep | wc -l; cat /deep/1 /deep/69"], timeout: 600)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "69\n1\n69\n")
    }
}
