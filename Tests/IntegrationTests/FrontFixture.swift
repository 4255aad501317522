import Foundation
import Testing

/// A cove store shared by the front's tests: two images made by `podman
/// import` from the busybox rootfs (never pulled), saved by podman and
/// loaded with `cove load`. podman keeps them too, to compare behaviour.
enum FrontFixture {
    static let plain = "localhost/cove-it-front:latest"
    /// ENTRYPOINT, CMD, WORKDIR, ENV set, as a Dockerfile would.
    static let entry = "localhost/cove-it-entry:latest"

    struct Store {
        let root: String
        let runroot: String
    }

    static let prepared: Result<Store, Error> = Result {
        let dir = try Harness.temporaryDirectory("front")
        try importImage(plain, changes: ["ENV=PATH=/bin"], dir: dir)
        try importImage(entry, changes: ["ENV=PATH=/bin", "ENV=GREETING=hi", "WORKDIR=/tmp",
                                         #"ENTRYPOINT ["/bin/echo", "from-entrypoint"]"#, #"CMD ["from-cmd"]"#], dir: dir)
        let store = Store(root: dir + "/root", runroot: dir + "/run")
        for name in [plain, entry] {
            let tar = dir + "/\(name.split(separator: "/").last?.split(separator: ":").first ?? "x").tar"
            let save = try Harness.run("/usr/bin/podman", ["save", "--format", "oci-archive", "-o", tar, name], timeout: 180)
            guard save.status == 0 else { throw Harness.SetupFailure(description: "podman save: \(save.stderr)") }
            let load = try Harness.run(Harness.binary("cove"), ["--root", store.root, "--runroot", store.runroot,
                                                                 "load", "-i", tar], timeout: 120)
            guard load.status == 0 else { throw Harness.SetupFailure(description: "cove load: \(load.stderr)") }
        }
        return store
    }

    static func importImage(_ name: String, changes: [String], dir: String) throws {
        let rootfs = dir + "/rootfs-\(UInt32.random(in: 0...UInt32.max))"
        try Harness.makeRootfs(at: rootfs)
        let tar = rootfs + ".tar"
        let t = try Harness.run("/bin/tar", ["--owner=0", "--group=0", "-C", rootfs, "-cf", tar, "."])
        guard t.status == 0 else { throw Harness.SetupFailure(description: "tar: \(t.stderr)") }
        var args = ["import"]
        for c in changes { args += ["--change", c] }
        let imp = try Harness.run("/usr/bin/podman", args + [tar, name], timeout: 180)
        guard imp.status == 0 else { throw Harness.SetupFailure(description: "podman import: \(imp.stderr)") }
        try? FileManager.default.removeItem(atPath: rootfs)
    }

    /// `cove --root … --runroot … ARGS`.
    @discardableResult
    static func cove(_ args: [String], timeout: Double = 60) throws -> Harness.Output {
        let s = try prepared.get()
        return try Harness.run(Harness.binary("cove"), ["--root", s.root, "--runroot", s.runroot] + args, timeout: timeout)
    }

    @discardableResult
    static func podman(_ args: [String], timeout: Double = 120) throws -> Harness.Output {
        _ = try prepared.get()
        return try Harness.run("/usr/bin/podman", args, timeout: timeout)
    }

    static var root: String { (try? prepared.get().root) ?? "" }
    static var runroot: String { (try? prepared.get().runroot) ?? "" }
}
