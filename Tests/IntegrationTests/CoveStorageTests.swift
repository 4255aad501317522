import Foundation
import Testing

/// Each storage driver forced in turn through the front, keep-id, and
/// named volumes, as the unprivileged user.
@Suite(.serialized, .enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct CoveStorageTests {
    let img = FrontFixture.plain
    func cove(_ args: [String], timeout: Double = 90) throws -> Harness.Output { try FrontFixture.cove(args, timeout: timeout) }
    func cove(_ driver: String, _ args: [String]) throws -> Harness.Output {
        try FrontFixture.cove(["--storage-driver", driver] + args, timeout: 90)
    }

    /// Live fuse-overlayfs processes of ours whose command line names `path`.
    static func fuseServers(naming path: String) -> [String] {
        let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return procs.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] != "Z",
                  let cmd = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = String(decoding: cmd, as: UTF8.self).split(separator: "\0").map(String.init)
            return (args.first ?? "").hasSuffix("fuse-overlayfs") && args.contains { $0.contains(path) }
        }
    }

    static func nothingMounted(under path: String) throws -> Bool {
        !(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)).contains(path)
    }

    static func layersHolding(_ relative: String) throws -> Int {
        let dir = FrontFixture.root + "/layers"
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") }
            .filter { FileManager.default.fileExists(atPath: "\(dir)/\($0)/\(relative)") }.count
    }

    @Test(arguments: ["overlay", "fuse-overlayfs", "copy"])
    func eachDriverKeepsWritesInTheirContainer(driver: String) throws {
        let name = "s\(getpid())-\(driver)"
        let script = "test -e /bin/new && echo again; echo new > /bin/new && rm -f /etc/passwd && test ! -e /etc/passwd"
        let write = try cove(driver, ["run", "--name", name, "--network", "none", img, "sh", "-c", script])
        #expect(write.status == 0 && write.stdout.isEmpty, "\(write.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let passwdLayers = try Self.layersHolding("etc/passwd")
        let id = try cove(["inspect", "-f", "{{.Id}}", name]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.count == 64)
        #expect(try cove(["inspect", "-f", "{{.Driver}}", name]).stdout == driver + "\n")
        // The write is in the container's own layer, not in the image's.
        let other = try cove(driver, ["run", "--rm", "--network", "none", img, "sh", "-c",
                                      "test ! -e /bin/new && test -e /etc/passwd && echo clean"])
        #expect(other.status == 0 && other.stdout == "clean\n", "\(other.stderr)")
        #expect(try Self.layersHolding("bin/new") == 0)
        #expect(try Self.layersHolding("etc/passwd") == passwdLayers && passwdLayers > 0)
        // After exit: no mount in our namespace, no fuse-overlayfs left.
        let dir = FrontFixture.root + "/containers/" + id
        #expect(try Self.nothingMounted(under: FrontFixture.root))
        #expect(Self.fuseServers(naming: dir).isEmpty)
        // create + start finds its own write again, and ends as cleanly.
        let again = try cove(["start", "-a", name])
        #expect(again.status == 0 && again.stdout == "again\n", "\(again.stderr)")
        #expect(Self.fuseServers(naming: dir).isEmpty)
        #expect(try cove(["rm", name]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir))
        #expect(try Self.nothingMounted(under: FrontFixture.root))
    }

    /// `run -d` (held by the monitor) and `create` + `start`: the fuse
    /// server runs outside the container's PID namespace while it runs and
    /// ends with it.
    @Test(arguments: ["overlay", "fuse-overlayfs", "copy"])
    func aDetachedContainerLeavesNothingBehind(driver: String) throws {
        let name = "sd\(getpid())-\(driver)"
        let run = try cove(driver, ["run", "-d", "--name", name, "--network", "none", img, "sleep", "300"])
        #expect(run.status == 0, "\(run.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let id = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let dir = FrontFixture.root + "/containers/" + id
        #expect(Self.fuseServers(naming: dir).count == (driver == "fuse-overlayfs" ? 1 : 0))
        let ps = try cove(["exec", name, "ps"])
        #expect(ps.status == 0 && !ps.stdout.contains("fuse") && ps.stdout.contains("sleep"), "\(ps.stdout) \(ps.stderr)")
        let write = try cove(["exec", name, "sh", "-c", "echo x > /x && cat /x"])
        #expect(write.stdout == "x\n", "\(write.stderr)")
        #expect(try cove(["stop", "-t", "1", name]).status == 0)
        #expect(Self.fuseServers(naming: dir).isEmpty)
        #expect(try Self.nothingMounted(under: FrontFixture.root))
        let created = try cove(driver, ["create", "--name", name + "c", "--network", "none", img, "cat", "/etc/hostname"])
        #expect(created.status == 0, "\(created.stderr)")
        defer { _ = try? cove(["rm", "-f", name + "c"]) }
        let started = try cove(["start", "-a", name + "c"])
        #expect(started.status == 0 && started.stdout.count == 13, "\(started.stderr)")
        let cid = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Self.fuseServers(naming: FrontFixture.root + "/containers/" + cid).isEmpty)
        #expect(try cove(["rm", name + "c"]).status == 0)
        #expect(try cove(["rm", name]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test(arguments: ["overlay", "fuse-overlayfs", "copy"])
    func infoSaysWhichDriverAndWhy(driver: String) throws {
        let info = try cove(driver, ["info"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("storage driver: \(driver) (chosen by --storage-driver)"), "\(info.stdout)")
        let probed = try cove(["info"])
        #expect(probed.stdout.contains("storage driver: "), "\(probed.stdout)")
        #expect(probed.stdout.contains("storage root: \(FrontFixture.root)"), "\(probed.stdout)")
    }

    /// keep-id: the user's own ids inside, files on a bind mount the user's
    /// outside, and the image's files still root's.
    @Test(arguments: [nil, "overlay", "copy"] as [String?])
    func keepIDShowsTheUsersOwnIDs(forced: String?) throws {
        let dir = try Harness.temporaryDirectory("keepid")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["run", "--rm", "--network", "none", "--userns", "keep-id", "-v", "\(dir):/data", img, "sh", "-c",
                    "id -u; id -g; echo hi > /data/f; stat -c %u:%g /etc/passwd /bin"]
        let r = try forced.map { try cove($0, args) } ?? cove(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "\(getuid())\n\(getgid())\n0:0\n0:0\n", "\(r.stdout)")
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/f")
        #expect((attrs[.ownerAccountID] as? NSNumber)?.uint32Value == getuid())
        #expect((attrs[.groupOwnerAccountID] as? NSNumber)?.uint32Value == getgid())
        if forced != nil {
            #expect(r.stderr.contains("using fuse-overlayfs") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        }
        // Root inside is still root of the image's files (a non-keep-id user of them).
        let root = try cove(["run", "--rm", "--network", "none", "--userns", "keep-id", "-u", "0", img, "sh", "-c",
                             "id -u; echo x > /etc/x && stat -c %u /etc/x && chown 5:6 /etc/x && stat -c %u:%g /etc/x"])
        #expect(root.stdout == "0\n0\n5:6\n", "\(root.stdout) \(root.stderr)")
        #expect(try Self.nothingMounted(under: FrontFixture.root))
    }

    @Test func namedVolumesLiveApartFromContainers() throws {
        let v = "vol\(getpid())"
        let made = try cove(["volume", "create", v])
        #expect(made.status == 0 && made.stdout == v + "\n", "\(made.stderr)")
        defer { for n in [v, v + "-etc", v + "-m"] { _ = try? cove(["volume", "rm", "-f", n]) } }
        #expect(try cove(["volume", "ls", "-q"]).stdout.split(separator: "\n").contains(Substring(v)))
        let inspect = try cove(["volume", "inspect", v])
        #expect(inspect.stdout.contains("\"Mountpoint\": \"\(FrontFixture.root)/volumes/\(v)/_data\""), "\(inspect.stdout)")
        // Data written by one container is there for the next, and survives `cove rm`.
        let name = "v\(getpid())"
        let w = try cove(["run", "--name", name, "--network", "none", "-v", "\(v):/data", img, "sh", "-c", "echo kept > /data/f"])
        #expect(w.status == 0, "\(w.stderr)")
        let busy = try cove(["volume", "rm", v])
        #expect(busy.status == 125 && busy.stderr.contains("in use by container \(name)"), "\(busy.stderr)")
        #expect(try cove(["rm", name]).status == 0)
        let r = try cove(["run", "--rm", "--network", "none", "--mount", "type=volume,source=\(v),target=/d,readonly", img,
                          "sh", "-c", "cat /d/f; echo no > /d/g"])
        #expect(r.stdout == "kept\n" && r.status != 0, "\(r.stdout) \(r.stderr)")
        // A new volume is filled from the image's content at its path, owners kept.
        let fill = try cove(["run", "--rm", "--network", "none", "-v", "\(v)-etc:/etc", img, "stat", "-c", "%u", "/etc/passwd"])
        #expect(fill.status == 0 && fill.stdout == "0\n", "\(fill.stdout) \(fill.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(FrontFixture.root)/volumes/\(v)-etc/_data/passwd"))
        // --mount type=volume creates a missing one, as docker.
        let m = try cove(["run", "--rm", "--network", "none", "--mount", "type=volume,source=\(v)-m,target=/m", img, "touch", "/m/x"])
        #expect(m.status == 0, "\(m.stderr)")
        #expect(FileManager.default.fileExists(atPath: "\(FrontFixture.root)/volumes/\(v)-m/_data/x"))
        // A volume a container (even a stopped one) uses is kept by prune.
        #expect(try cove(["create", "--name", name, "--network", "none", "-v", "\(v)-m:/m", img, "true"]).status == 0)
        let pruned = try cove(["volume", "prune", "-f"])
        let prunedNames = pruned.stdout.split(separator: "\n").map(String.init)
        #expect(pruned.status == 0 && prunedNames.contains(v + "-etc") && !prunedNames.contains(v + "-m"),
                "\(pruned.stdout) \(pruned.stderr)")
        #expect(try cove(["rm", name]).status == 0)
        #expect(try cove(["volume", "rm", v + "-m"]).stdout == v + "-m\n")
        #expect(prunedNames.contains(v))
        #expect(!FileManager.default.fileExists(atPath: "\(FrontFixture.root)/volumes/\(v)"))
        let gone = try cove(["volume", "inspect", v])
        #expect(gone.status == 125 && gone.stderr.contains("no such volume"), "\(gone.stderr)")
    }
}

extension CoveStorageTests {
    /// A --rm container's writable layer is volatile, as podman makes it:
    /// no fsync per copy-up (touching 5,000 image files took 20 s here
    /// without it). One that is kept is not.
    @Test func aRemovedContainersLayerIsVolatile() throws {
        let line = "grep ' / / ' /proc/self/mountinfo"
        let rm = try cove("overlay", ["run", "--rm", "--network", "none", img, "sh", "-c", line])
        #expect(rm.status == 0 && rm.stdout.contains("volatile"), "\(rm.stdout) \(rm.stderr)")
        let kept = try cove("overlay", ["run", "--name", "kept\(getpid())", "--network", "none", img, "sh", "-c", line])
        defer { _ = try? cove(["rm", "-f", "kept\(getpid())"]) }
        #expect(kept.status == 0 && kept.stdout.contains(" / / ") && !kept.stdout.contains("volatile"), "\(kept.stdout)")
        #expect(try cove(["start", "-a", "kept\(getpid())"]).status == 0)
        // The kernel marks a volatile upper layer and refuses to mount it
        // again while the mark is there (shown by cove-unshare run twice
        // on the bundle); cove start clears it.
        let s = try FrontFixture.prepared.get()
        let cid = try cove("overlay", ["create", "--rm", "--network", "none", img, "true"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        defer { _ = try? cove(["rm", "-f", cid]) }
        func direct(_ id: String) throws -> Harness.Output {
            try Harness.run(Harness.binary("cove-unshare"), ["--root", s.runroot + "/runtime", "run", "--bundle",
                                                             s.root + "/containers/" + cid, id], timeout: 60)
        }
        #expect(try direct("mark\(getpid())").status == 0)
        let refused = try direct("mark2\(getpid())")
        #expect(refused.status != 0 && refused.stderr.contains("volatile"), "\(refused.stderr)")
        let started = try cove(["start", "-a", cid])
        #expect(started.status == 0, "\(started.stderr)")
        // fuse-overlayfs takes the same option.
        let name = "vol\(getpid())-fuse"
        let d = try cove("fuse-overlayfs", ["run", "-d", "--rm", "--name", name, "--network", "none", img, "sleep", "300"])
        #expect(d.status == 0, "\(d.stderr)")
        defer { _ = try? cove(["rm", "-f", name]) }
        let id = d.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let servers = Self.fuseServers(naming: FrontFixture.root + "/containers/" + id)
        #expect(servers.count == 1)
        let cmd = servers.first.flatMap { FileManager.default.contents(atPath: "/proc/\($0)/cmdline") } ?? Data()
        #expect(String(decoding: cmd, as: UTF8.self).contains("volatile"))
        let touch = try cove(["exec", name, "sh", "-c", "touch /bin/busybox /etc/passwd && echo ok"])
        #expect(touch.stdout == "ok\n", "\(touch.stderr)")
    }
}
