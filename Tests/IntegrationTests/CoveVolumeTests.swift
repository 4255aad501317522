import Foundation
import Testing

/// Anonymous volumes, as docker makes them: `-v /path`, `--mount
/// type=volume` without a source, and the image's VOLUME paths. Part of
/// the storage suite: `volume prune` there must not run beside these.
extension CoveStorageTests {
    static func volumeNames() throws -> Set<String> {
        let ls = try FrontFixture.cove(["volume", "ls", "-q"])
        guard ls.status == 0 else { throw Harness.SetupFailure(description: "volume ls: \(ls.stderr)") }
        return Set(ls.stdout.split(separator: "\n").map(String.init))
    }

    static func isAnonymousName(_ n: String) -> Bool {
        n.count == 64 && n.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    static func volumeFile(_ volume: String, _ file: String) -> String? {
        try? String(contentsOfFile: "\(FrontFixture.root)/volumes/\(volume)/_data/\(file)", encoding: .utf8)
    }

    /// Polls (at most `seconds`) until `done` holds.
    static func eventually(_ seconds: Double, _ done: () throws -> Bool) rethrows -> Bool {
        let end = Date().addingTimeInterval(seconds)
        repeat {
            if try done() { return true }
            usleep(50_000)
        } while Date() < end
        return try done()
    }

    @Test func anonymousVolumesLiveAsLongAsTheirContainer() throws {
        let name = "anon\(getpid())", named = "anonkeep\(getpid())"
        defer {
            for c in [name, name + "-rm", name + "-d"] { _ = try? cove(["rm", "-f", c]) }
            _ = try? cove(["volume", "rm", "-f", named])
        }
        let before = try Self.volumeNames()
        let script = "cat /a/f /m/f 2>/dev/null; echo a > /a/f; echo m > /m/f; echo n > /n/f; grep -c ' /[amn] ' /proc/self/mountinfo"
        let first = try cove(["run", "--name", name, "--network", "none", "-v", "/a", "--mount", "type=volume,target=/m",
                              "-v", "\(named):/n", img, "sh", "-c", script])
        #expect(first.status == 0 && first.stdout == "3\n", "\(first.stdout) \(first.stderr)")
        let made = try Self.volumeNames().subtracting(before)
        let anonymous = made.filter(Self.isAnonymousName)
        #expect(anonymous.count == 2 && made == anonymous.union([named]), "\(made)")
        for v in anonymous {
            let inspect = try cove(["volume", "inspect", v])
            #expect(inspect.stdout.contains("\"com.docker.volume.anonymous\": \"\""), "\(inspect.stdout)")
        }
        // The data is there for the container's next start.
        let again = try cove(["start", "-a", name])
        #expect(again.status == 0 && again.stdout == "a\nm\n3\n", "\(again.stdout) \(again.stderr)")
        // Plain rm keeps them (docker's rule); they are unused then: prune takes them.
        #expect(try cove(["rm", name]).status == 0)
        #expect(try Self.volumeNames().isSuperset(of: made))
        let pruned = Set(try cove(["volume", "prune", "-f"]).stdout.split(separator: "\n").map(String.init))
        #expect(pruned.isSuperset(of: made), "\(pruned)")
        #expect(try Self.volumeNames().isDisjoint(with: made))

        // rm -v takes the anonymous ones, never the named one.
        let c = try cove(["create", "--name", name, "--network", "none", "-v", "/a", "-v", "\(named):/n", img, "true"])
        #expect(c.status == 0, "\(c.stderr)")
        let created = try Self.volumeNames().subtracting(before)
        #expect(created.filter(Self.isAnonymousName).count == 1 && created.contains(named), "\(created)")
        let rmv = try cove(["rm", "-v", name])
        #expect(rmv.status == 0 && rmv.stdout == name + "\n", "\(rmv.stderr)")
        #expect(try Self.volumeNames().subtracting(before) == [named])

        // run --rm, attached: the anonymous volume goes with the container, the named one stays.
        let rm = try cove(["run", "--rm", "--name", name + "-rm", "--network", "none", "-v", "/a", "-v", "\(named):/n",
                           img, "sh", "-c", "echo kept > /n/g; echo gone > /a/g"])
        #expect(rm.status == 0, "\(rm.stderr)")
        #expect(try Self.volumeNames().subtracting(before) == [named])
        #expect(Self.volumeFile(named, "g") == "kept\n")

        // run -d --rm: the volume holds what the container writes while it
        // runs; the monitor's removal at the end takes it.
        let d = try cove(["run", "-d", "--rm", "--name", name + "-d", "--network", "none", "-v", "/a", img,
                          "sh", "-c", "echo live > /a/f; sleep 300"])
        #expect(d.status == 0, "\(d.stderr)")
        let live = try Self.volumeNames().subtracting(before).filter(Self.isAnonymousName)
        #expect(live.count == 1)
        #expect(Self.eventually(20) { live.first.flatMap { Self.volumeFile($0, "f") } == "live\n" })
        #expect(try cove(["stop", "-t", "1", name + "-d"]).status == 0)
        #expect(try Self.eventually(20) { try Self.volumeNames().isDisjoint(with: live) })
        #expect(try cove(["inspect", name + "-d"]).status != 0)
    }

    /// An image with VOLUME /data (made with Fixtures/oci-image.py and
    /// loaded): each container gets a new volume there, filled from the
    /// image; a flag on the same path replaces it.
    @Test func anImagesVolumeGetsAnAnonymousVolume() throws {
        let dir = try Harness.temporaryDirectory("imgvol")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rootfs = dir + "/rootfs"
        try Harness.makeRootfs(at: rootfs)
        let image = "localhost/cove-it-volume\(getpid()):latest"
        _ = try TestRegistry.buildImage([
            "config": ["Env": ["PATH=/bin"], "Cmd": ["sh"], "Volumes": ["/data": [:] as [String: Any], "/cache/": [:]]],
            "layers": [["directory": rootfs],
                       ["entries": [["path": "data", "type": "dir", "mode": 0o750],
                                    ["path": "data/seed", "content": "seeded\n", "uid": 7, "gid": 8]]]],
        ], at: dir + "/layout", tag: image)
        let tar = try Harness.run("/bin/tar", ["-C", dir + "/layout", "-cf", dir + "/image.tar", "."])
        #expect(tar.status == 0, "\(tar.stderr)")
        let load = try cove(["load", "-i", dir + "/image.tar"])
        #expect(load.status == 0 && load.stdout == "Loaded image: \(image)\n", "\(load.stdout) \(load.stderr)")
        defer { _ = try? cove(["rmi", image]) }

        let name = "imgvol\(getpid())", named = "imgvolkeep\(getpid())"
        defer { _ = try? cove(["rm", "-f", name]); _ = try? cove(["volume", "rm", "-f", named]) }
        let before = try Self.volumeNames()
        let run = try cove(["run", "--name", name, "--network", "none", image, "sh", "-c",
                            "cat /data/seed; stat -c %u:%g:%a /data/seed /data; echo new > /data/new; "
                            + "grep -c -e ' /data ' -e ' /cache ' /proc/self/mountinfo"])
        #expect(run.status == 0 && run.stdout == "seeded\n7:8:644\n0:0:750\n2\n", "\(run.stdout) \(run.stderr)")
        let made = try Self.volumeNames().subtracting(before)
        #expect(made.count == 2 && made.allSatisfy(Self.isAnonymousName), "\(made)")
        #expect(made.contains { Self.volumeFile($0, "new") == "new\n" && Self.volumeFile($0, "seed") == "seeded\n" })
        #expect(try cove(["rm", "-v", name]).status == 0)
        #expect(try Self.volumeNames().subtracting(before).isEmpty)

        // -v NAME:/data takes the image's place: no anonymous volume there.
        let over = try cove(["run", "--rm", "--network", "none", "-v", "\(named):/data/", image, "sh", "-c",
                             "cat /data/seed; echo mine > /data/mine"])
        #expect(over.status == 0 && over.stdout == "seeded\n", "\(over.stdout) \(over.stderr)")
        #expect(try Self.volumeNames().subtracting(before) == [named])
        #expect(Self.volumeFile(named, "mine") == "mine\n")
    }
}
