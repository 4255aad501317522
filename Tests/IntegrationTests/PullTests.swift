import Foundation
import Testing

/// `cove pull`, `cove login` and `cove logout` against a real
/// docker-registry on loopback, with images built by Fixtures/oci-image.py
/// and pushed by skopeo.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: TestRegistry.available, "needs docker-registry, skopeo and python3 (scripts/prepare-host.sh)"))
struct PullTests {
    struct Failure: Error, CustomStringConvertible { let description: String; init(_ d: String) { description = d } }

    /// A scratch directory with a store root, an auth file and an empty
    /// docker config, so the user's own credentials never leak in.
    final class Scratch {
        let dir: String
        var root: String { dir + "/store" }
        var authFile: String { dir + "/auth.json" }
        init() throws {
            dir = try Harness.temporaryDirectory("pull")
            try FileManager.default.createDirectory(atPath: dir + "/docker", withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        func cove(_ args: [String], timeout: Double = 180) throws -> Harness.Output {
            try Harness.run(Harness.binary("cove"), args, env: env, timeout: timeout)
        }

        var env: [String: String] { ["REGISTRY_AUTH_FILE": authFile, "DOCKER_CONFIG": dir + "/docker"] }

        func pull(_ ref: String, _ extra: [String] = []) throws -> Harness.Output {
            try cove(["pull", "--root", root] + extra + [ref])
        }

        /// Every file under the store but the locks (unpacked layers too):
        /// a regular file with its sha256, anything else (a whiteout, a
        /// symlink) with its type.
        func snapshot() throws -> [String: String] {
            var out: [String: String] = [:]
            let fm = FileManager.default
            guard let e = fm.enumerator(atPath: root) else { return out }
            for case let rel as String in e {
                let path = root + "/" + rel
                let type = (try? fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType) ?? nil
                // Lock files are no content: the store's and the layer cache's.
                let isLock = rel == "lock" || (rel.hasPrefix("layers/.") && rel.hasSuffix(".lock"))
                guard type != .typeDirectory, !isLock else { continue }
                out[rel] = type == .typeRegular ? try PullTests.sha256(path) : "\(type.map { $0.rawValue } ?? "?")"
            }
            return out
        }
    }

    static func sha256(_ path: String) throws -> String {
        let r = try Harness.run("/usr/bin/sha256sum", [path])
        guard r.status == 0, let hex = r.stdout.split(separator: " ").first else { throw Failure("sha256sum \(path): \(r.stderr)") }
        return String(hex)
    }

    static func entry(_ path: String, _ type: String = "file", content: String? = nil, target: String? = nil,
                      mode: Int? = nil) -> [String: Any] {
        var e: [String: Any] = ["path": path, "type": type]
        if let content { e["content"] = content }
        if let target { e["target"] = target }
        if let mode { e["mode"] = mode }
        return e
    }

    /// Three layers: gzip (a tree with links), zstd (a whiteout and an
    /// opaque dir), uncompressed.
    static var multiLayer: [String: Any] { [
        "config": ["Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]],
        "layers": [
            ["compression": "gzip", "entries": [
                entry("etc", "dir"), entry("etc/motd", content: "hello from layer one\n"),
                entry("etc/motd.link", "symlink", target: "motd"), entry("etc/motd.hard", "hardlink", target: "etc/motd"),
                entry("var/cache", "dir"), entry("var/cache/old", content: "old"),
                entry("bin/tool", content: "#!/bin/sh\necho tool\n", mode: 0o755),
            ]],
            ["compression": "zstd", "entries": [
                entry("etc/motd", "whiteout"), entry("var/cache", "opaque"), entry("var/cache/new", content: "new"),
            ]],
            ["compression": "none", "entries": [entry("srv", "dir"), entry("srv/data", content: "plain tar layer\n")]],
        ],
    ] }

    struct Pushed {
        let registry: TestRegistry
        let ref: String
        let summary: [String: Any]
        var manifests: [[String: Any]] { summary["manifests"] as? [[String: Any]] ?? [] }
        var manifest: [String: Any] { manifests.first ?? [:] }
        var manifestDigest: String { manifest["digest"] as? String ?? "" }
        var configDigest: String { manifest["config"] as? String ?? "" }
        var layerDigests: [String] { (manifest["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String } }
    }

    /// Builds `description`, pushes it to `registry` as `name:tag`.
    static func push(_ description: [String: Any], to registry: TestRegistry, name: String, tag: String = "1.0",
                     all: Bool = false, credentials: (String, String)? = nil) throws -> Pushed {
        let layout = registry.dir + "/layout-" + name.replacingOccurrences(of: "/", with: "-") + "-" + tag
        let summary = try TestRegistry.buildImage(description, at: layout, tag: tag)
        try registry.push(layout: layout, tag: tag, as: "\(name):\(tag)", all: all, credentials: credentials)
        return Pushed(registry: registry, ref: "\(registry.address)/\(name):\(tag)", summary: summary)
    }

    static func imageRows(_ s: Scratch) throws -> [[String]] {
        let images = try s.cove(["images", "--root", s.root])
        guard images.status == 0 else { throw Failure("cove images: \(images.stderr)") }
        return images.stdout.split(separator: "\n").dropFirst().map {
            $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        }
    }

    /// Every blob in the store hashes to its name; nothing half-done is left.
    static func expectStoreVerified(_ s: Scratch, holds digests: [String]) throws {
        let blobDir = s.root + "/blobs/sha256"
        let names = try FileManager.default.contentsOfDirectory(atPath: blobDir)
        for name in names {
            #expect(try sha256(blobDir + "/" + name) == name, "blob \(name) does not match its name")
        }
        for d in digests {
            #expect(names.contains(String(d.dropFirst(7))), "the store lacks \(d)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root + "/partial") == [])
        #expect(try FileManager.default.contentsOfDirectory(atPath: s.root + "/ingest") == [])
    }

    @Test func pullsAMultiLayerImageWithGzipZstdAndPlainLayers() throws {
        let registry = try TestRegistry()
        let p = try Self.push(Self.multiLayer, to: registry, name: "cove/multi")
        let s = try Scratch()
        let pull = try s.pull(p.ref)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout == p.manifestDigest + "\n")
        #expect(pull.stderr.contains("Writing manifest to image destination"))
        #expect(p.layerDigests.count == 3)
        try Self.expectStoreVerified(s, holds: [p.manifestDigest, p.configDigest] + p.layerDigests)
        let rows = try Self.imageRows(s)
        #expect(rows.count == 1)
        #expect(Array(rows.first?.prefix(3) ?? []) == ["\(registry.address)/cove/multi", "1.0",
                                                       String(p.configDigest.dropFirst(7).prefix(12))])
        // The record is the one `cove load` writes.
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.root + "/images.json")))
        let record = ((index as? [String: Any])?["images"] as? [[String: Any]])?.first ?? [:]
        #expect(record["name"] as? String == p.ref)
        #expect(record["manifest"] as? String == p.manifestDigest)
        #expect(record["config"] as? String == p.configDigest)
        #expect(record["created"] as? String == "2024-01-01T00:00:00Z")

        // Again: nothing is fetched, every blob is found in the store.
        let again = try s.pull(p.ref)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == p.manifestDigest + "\n")
        for d in [p.configDigest] + p.layerDigests {
            #expect(again.stderr.contains("\(d) skipped: already exists"), "\(again.stderr)")
        }
        let quiet = try s.pull(p.ref, ["-q"])
        #expect(quiet.status == 0 && quiet.stdout == p.manifestDigest + "\n" && quiet.stderr.isEmpty)
    }

    @Test func picksEachPlatformOfAnIndex() throws {
        let registry = try TestRegistry()
        let layer: (String) -> [String: Any] = { ["compression": "gzip", "entries": [Self.entry("arch", content: $0)]] }
        let description: [String: Any] = ["platforms": [
            ["os": "linux", "architecture": "amd64", "layers": [layer("amd64")]],
            ["os": "linux", "architecture": "arm64", "variant": "v8", "layers": [layer("arm64")]],
        ]]
        let p = try Self.push(description, to: registry, name: "cove/multiarch", all: true)
        #expect(p.summary["index"] is String)
        for m in p.manifests {
            let s = try Scratch()
            let platform = m["platform"] as? String ?? ""
            let pull = try s.pull(p.ref, ["--platform", platform])
            #expect(pull.status == 0, "\(platform): \(pull.stderr)")
            #expect(pull.stdout == (m["digest"] as? String ?? "") + "\n", "\(platform)")
            try Self.expectStoreVerified(s, holds: [m["config"] as? String ?? ""])
        }
        // A single-platform image of another platform: pulled, with a warning.
        let single = try Self.push(Self.multiLayer, to: registry, name: "cove/single")
        let other = try Scratch().pull(single.ref, ["--platform", "linux/s390x", "-q"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(other.stderr.hasPrefix("WARNING: image platform (linux/") && other.stderr.contains("(linux/s390x)"),
                "\(other.stderr)")
        let s = try Scratch()
        let missing = try s.pull(p.ref, ["--platform", "linux/s390x"])
        #expect(missing.status == 125)
        #expect(missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains("no image for linux/s390x") && missing.stderr.contains("linux/arm64/v8"),
                "\(missing.stderr)")
    }

    @Test func basicAuthNeedsLoginAndLogoutForgets() throws {
        let registry = try TestRegistry(basicAuth: ("alice", "s3cret"))
        let p = try Self.push(Self.multiLayer, to: registry, name: "cove/private", credentials: ("alice", "s3cret"))
        let s = try Scratch()

        let refused = try s.pull(p.ref)
        #expect(refused.status == 125)
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.hasPrefix("Error: unauthorized") && refused.stderr.contains("cove login \(registry.address)"),
                "\(refused.stderr)")

        let wrong = try s.cove(["login", "-u", "alice", "-p", "wrong", registry.address])
        #expect(wrong.status == 125)
        #expect(wrong.stderr.contains("unauthorized"), "\(wrong.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.authFile))

        let login = try s.cove(["login", "-u", "alice", "-p", "s3cret", registry.address])
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout == "Login Succeeded!\n")
        let attrs = try FileManager.default.attributesOfItem(atPath: s.authFile)
        #expect((attrs[.posixPermissions] as? Int) == 0o600)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.authFile))) as? [String: Any]
        let entry = (json?["auths"] as? [String: Any])?[registry.address] as? [String: Any]
        #expect(entry?["auth"] as? String == Data("alice:s3cret".utf8).base64EncodedString())
        // podman's tools read what we wrote.
        let inspect = try Harness.run("/usr/bin/skopeo", ["inspect", "--tls-verify=false", "--authfile", s.authFile,
                                                          "docker://\(p.ref)"], timeout: 120)
        #expect(inspect.status == 0, "\(inspect.stderr)")

        let pull = try s.pull(p.ref)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout == p.manifestDigest + "\n")

        let logout = try s.cove(["logout", registry.address])
        #expect(logout.status == 0, "\(logout.stderr)")
        let after = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.authFile))) as? [String: Any]
        #expect((after?["auths"] as? [String: Any])?[registry.address] == nil)
        let again = try s.cove(["logout", registry.address])
        #expect(again.status == 125 && again.stderr.contains("not logged into \(registry.address)"))
        let refusedAgain = try s.pull(p.ref)
        #expect(refusedAgain.status == 125 && refusedAgain.stderr.contains("unauthorized"))
        let stdin = try Harness.run("/bin/sh", ["-c", "printf 's3cret\\n' | \"$0\" login -u alice --password-stdin \"$1\"",
                                                 Harness.binary("cove"), registry.address], env: s.env)
        #expect(stdin.status == 0 && stdin.stdout == "Login Succeeded!\n", "\(stdin.stderr)")
        #expect(try s.pull(p.ref).status == 0)
        let all = try s.cove(["logout", "--all"])
        #expect(all.status == 0 && !FileManager.default.fileExists(atPath: s.authFile))
    }

    /// A Bearer flow: a token service and a registry front that checks
    /// tokens (Fixtures/token-proxy.py; docker-registry's own token auth
    /// wants signed JWTs), which redirects blobs to another origin.
    @Test func bearerTokensFromTheChallengeAndRedirectsWithoutCredentials() throws {
        let registry = try TestRegistry()
        let p = try Self.push(Self.multiLayer, to: registry, name: "cove/tokens")
        let log = registry.dir + "/proxy.log"
        let out = registry.dir + "/proxy.out"
        let proxy = try Harness.spawn("/usr/bin/python3", [Harness.packageRoot + "/Tests/IntegrationTests/Fixtures/token-proxy.py",
                                                           String(registry.port), "bob", "hunter2", log],
                                      stdout: out, stderr: registry.dir + "/proxy.err")
        defer { kill(proxy, SIGTERM); _ = try? Harness.finish(proxy, timeout: 10) }
        var port = ""
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: out, encoding: .utf8), let first = text.split(separator: " ").first {
                port = String(first); break
            }
            usleep(20_000)
        }
        #expect(!port.isEmpty, "token-proxy.py did not start")
        let front = "127.0.0.1:\(port)"
        let ref = "\(front)/cove/tokens:1.0"
        let s = try Scratch()

        let anonymous = try s.pull(ref)
        #expect(anonymous.status == 125)
        #expect(anonymous.stderr.contains("unauthorized") && anonymous.stderr.contains("cove login \(front)"),
                "\(anonymous.stderr)")
        let wrong = try s.cove(["login", "-u", "bob", "-p", "nope", front])
        #expect(wrong.status == 125 && wrong.stderr.contains("unauthorized"), "\(wrong.stderr)")
        let login = try s.cove(["login", "-u", "bob", "-p", "hunter2", front])
        #expect(login.status == 0, "\(login.stderr)")

        try "".write(toFile: log, atomically: true, encoding: .utf8)
        let pull = try s.pull(ref)
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stdout == p.manifestDigest + "\n")
        try Self.expectStoreVerified(s, holds: [p.manifestDigest, p.configDigest] + p.layerDigests)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        // One token for the pull's scope, cached for every request after it.
        #expect(lines.filter { $0.hasPrefix("GET /token") }.count == 1, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("GET /token?service=cove-test&scope=repository%3Acove%2Ftokens%3Apull Basic") },
                "\(lines)")
        // Blobs came from the other origin, and no credentials went there.
        let storage = lines.filter { $0.hasPrefix("storage ") }
        #expect(storage.count == 4, "\(lines)")
        #expect(storage.allSatisfy { $0.hasSuffix(" -") })
    }

    /// A pull unpacks the layers (as podman pull does), so the first
    /// `cove create` finds them there and unpacks nothing; a second pull of
    /// the image leaves them alone too.
    @Test func aPullLeavesTheLayersUnpackedForCreate() throws {
        let registry = try TestRegistry()
        let p = try Self.push(Self.multiLayer, to: registry, name: "cove/unpacked")
        let s = try Scratch()
        let pull = try s.pull(p.ref, ["-q"])
        #expect(pull.status == 0 && pull.stderr.isEmpty, "\(pull.stderr)")
        let layers = s.root + "/layers"
        func inodes() throws -> [String: UInt64] {
            var out: [String: UInt64] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: layers) where !name.hasPrefix(".") {
                var st = stat()
                if lstat(layers + "/" + name, &st) == 0 { out[name] = UInt64(st.st_ino) }
            }
            return out
        }
        let after = try inodes()
        #expect(after.count == 3, "\(after)")
        // Each layer's own entries, in a directory of its own.
        for marker in ["etc/motd.link", "var/cache/new", "srv/data"] {
            let holders = after.keys.filter { FileManager.default.fileExists(atPath: layers + "/" + $0 + "/" + marker) }
            #expect(holders.count == 1, "\(marker) in \(holders)")
        }
        // Where the filesystem has inode flags (ext4), the store is a top of
        // directory hierarchies: each layer goes to a fresh block group.
        let attrs = try Harness.run("/usr/bin/lsattr", ["-d", layers])
        if attrs.status == 0 {
            #expect(attrs.stdout.split(separator: " ").first?.contains("T") == true, "\(attrs.stdout)")
        }

        let again = try s.pull(p.ref, ["-q"])
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
        #expect(try inodes() == after)
        let create = try s.cove(["--root", s.root, "--runroot", s.dir + "/run", "create", "--network", "none", p.ref, "true"])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(try inodes() == after, "create unpacked the layers again")
        #expect(try FileManager.default.contentsOfDirectory(atPath: layers).filter { $0.hasPrefix(".tmp-") }.isEmpty)
    }

    /// A layer cove-fs refuses does not fail the pull (the blobs are what
    /// the registry named); the pull says so, and `cove create` refuses it.
    @Test func aLayerThatCannotBeUnpackedIsAWarningAtPullAndAnErrorAtCreate() throws {
        let registry = try TestRegistry()
        let description: [String: Any] = ["layers": [
            ["compression": "gzip", "entries": [Self.entry("etc", "dir"), Self.entry("link", "symlink", target: "/etc")]],
            ["compression": "gzip", "entries": [Self.entry("link/passwd", content: "through the link\n")]],
        ]]
        let p = try Self.push(description, to: registry, name: "cove/hostile")
        let s = try Scratch()
        let pull = try s.pull(p.ref, ["-q"])
        #expect(pull.status == 0, "\(pull.stderr)")
        #expect(pull.stderr.split(separator: "\n").count == 1, "\(pull.stderr)")
        #expect(pull.stderr.hasPrefix("WARNING: cannot unpack layer \(p.layerDigests.last ?? "")") && pull.stderr.contains("link")
                && pull.stderr.contains("cove create tries again"), "\(pull.stderr)")
        let create = try s.cove(["--root", s.root, "--runroot", s.dir + "/run", "create", "--network", "none", p.ref, "true"])
        #expect(create.status == 125, "\(create.stderr)")
        #expect(create.stderr.contains("cannot unpack layer \(p.layerDigests.last ?? "")"), "\(create.stderr)")
    }

    @Test func aTamperedBlobIsRefusedAndTheStoreIsUnchanged() throws {
        let registry = try TestRegistry()
        let good = try Self.push(Self.multiLayer, to: registry, name: "cove/good")
        var description = Self.multiLayer
        description["config"] = ["Env": ["TAMPERED=1"]]
        var layers = description["layers"] as? [[String: Any]] ?? []
        layers.append(["compression": "gzip", "entries": [Self.entry("big", content: String(repeating: "x", count: 100_000))]])
        description["layers"] = layers
        let bad = try Self.push(description, to: registry, name: "cove/tampered")
        let victim = bad.layerDigests.last ?? ""
        // Same length, other bytes: only the digest can tell.
        let file = registry.blobFile(victim)
        var data = try Data(contentsOf: URL(fileURLWithPath: file))
        data[data.count / 2] ^= 0xff
        try data.write(to: URL(fileURLWithPath: file))

        let s = try Scratch()
        #expect(try s.pull(good.ref).status == 0)
        let before = try s.snapshot()
        let pull = try s.pull(bad.ref, ["-q"])
        #expect(pull.status == 125)
        #expect(pull.stderr.split(separator: "\n").count == 1, "\(pull.stderr)")
        #expect(pull.stderr.hasPrefix("Error: layer \(victim)") && pull.stderr.contains("does not match its digest"),
                "\(pull.stderr)")
        #expect(try s.snapshot() == before)
    }

    @Test func aKilledPullContinuesWhereItStopped() throws {
        let registry = try TestRegistry()
        let description: [String: Any] = ["layers": [
            ["compression": "gzip", "entries": [Self.entry("small", content: "small")]],
            ["compression": "none", "entries": [["path": "random.bin", "random": 30 << 20]]],
        ]]
        let p = try Self.push(description, to: registry, name: "cove/big")
        let big = p.layerDigests.last ?? ""
        let s = try Scratch()
        let partialFile = s.root + "/partial/" + big.dropFirst(7)
        let pid = try Harness.spawn(Harness.binary("cove"), ["pull", "--root", s.root, p.ref], env: s.env,
                                    stdout: s.dir + "/o", stderr: s.dir + "/e")
        var killedAt: Int64 = -1
        // Poll the partial file, 1 ms apart, at most 60 s.
        for _ in 0..<60_000 {
            let size = (try? FileManager.default.attributesOfItem(atPath: partialFile)[.size] as? Int64) ?? nil
            if let size, size > 1 << 20, size < 16 << 20 {
                kill(pid, SIGKILL)
                killedAt = size
                break
            }
            var st: Int32 = 0
            if waitpid(pid, &st, WNOHANG) == pid { break }
            usleep(1_000)
        }
        _ = try? Harness.finish(pid, timeout: 30)
        #expect(killedAt > 0, "the pull ended before it could be killed halfway: \((try? String(contentsOfFile: s.dir + "/e", encoding: .utf8)) ?? "")")
        let kept = (try? FileManager.default.attributesOfItem(atPath: partialFile)[.size] as? Int64) ?? nil
        #expect((kept ?? 0) >= killedAt, "the partial download was not kept")

        let again = try s.pull(p.ref)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == p.manifestDigest + "\n")
        #expect(again.stderr.contains("Copying layer \(big) (resuming at"), "\(again.stderr)")
        // The rest came as a Range request: 206, fewer bytes than the layer.
        let ranged = registry.accessLog.filter { $0.contains("GET /v2/cove/big/blobs/\(big) HTTP/1.1\" 206 ") }
        #expect(ranged.count == 1, "\(registry.accessLog.filter { $0.contains(big) })")
        let sent = ranged.first.flatMap { $0.components(separatedBy: "\" 206 ").last?.split(separator: " ").first }
            .flatMap { Int64($0) } ?? -1
        let layerSize = (p.manifest["layers"] as? [[String: Any]])?.last?["size"] as? Int64 ?? 0
        #expect(sent > 0 && sent <= layerSize - killedAt, "sent \(sent) of \(layerSize), killed at \(killedAt)")
        try Self.expectStoreVerified(s, holds: [p.manifestDigest, p.configDigest] + p.layerDigests)
        #expect(try Self.imageRows(s).map { Array($0.prefix(2)) } == [["\(registry.address)/cove/big", "1.0"]])
    }

    @Test func twoConcurrentPullsOfOneImageBothSucceed() throws {
        let registry = try TestRegistry()
        let description: [String: Any] = ["layers": [
            ["compression": "gzip", "entries": [Self.entry("a", content: "a")]],
            ["compression": "none", "entries": [["path": "b.bin", "random": 8 << 20]]],
            ["compression": "zstd", "entries": [["path": "c.bin", "random": 4 << 20]]],
        ]]
        let p = try Self.push(description, to: registry, name: "cove/shared")
        let s = try Scratch()
        let pids = try (0..<2).map { i in
            try Harness.spawn(Harness.binary("cove"), ["pull", "--root", s.root, p.ref], env: s.env,
                              stdout: s.dir + "/o\(i)", stderr: s.dir + "/e\(i)")
        }
        for (i, pid) in pids.enumerated() {
            let status = try Harness.finish(pid, timeout: 180)
            let err = (try? String(contentsOfFile: s.dir + "/e\(i)", encoding: .utf8)) ?? ""
            #expect(status == 0, "pull \(i): \(err)")
            #expect((try? String(contentsOfFile: s.dir + "/o\(i)", encoding: .utf8)) == p.manifestDigest + "\n")
        }
        let expected = Set(([p.manifestDigest, p.configDigest] + p.layerDigests).map { String($0.dropFirst(7)) })
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: s.root + "/blobs/sha256")) == expected)
        try Self.expectStoreVerified(s, holds: Array(expected).map { "sha256:" + $0 })
        #expect(try Self.imageRows(s).count == 1)
    }

    /// Manifests over 4 MiB (declared or streamed) and of unknown media
    /// types are refused with one line naming the image and the manifest.
    @Test func oversizedAndUnknownManifestsAreRefused() throws {
        let s = try Scratch()
        let out = s.dir + "/odd.out"
        let server = try Harness.spawn("/usr/bin/python3", [Harness.packageRoot + "/Tests/IntegrationTests/Fixtures/odd-registry.py"],
                                       stdout: out, stderr: s.dir + "/odd.err")
        defer { kill(server, SIGTERM); _ = try? Harness.finish(server, timeout: 10) }
        var port = ""
        for _ in 0..<500 {
            port = ((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !port.isEmpty { break }
            usleep(20_000)
        }
        #expect(!port.isEmpty, "odd-registry.py did not start")
        for name in ["big/sized", "big/stream"] {
            let ref = "127.0.0.1:\(port)/\(name):1"
            let r = try s.pull(ref)
            #expect(r.status == 125)
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("the manifest 1 of \(ref)") && r.stderr.contains("4 MiB limit: refused"), "\(r.stderr)")
        }
        let odd = try s.pull("127.0.0.1:\(port)/odd/type:1")
        #expect(odd.status == 125)
        #expect(odd.stderr.split(separator: "\n").count == 1, "\(odd.stderr)")
        #expect(odd.stderr.contains("unsupported media type \"application/vnd.example+json\" for manifest sha256:")
                && odd.stderr.contains("of 127.0.0.1:\(port)/odd/type:1"), "\(odd.stderr)")
        #expect(try s.snapshot().isEmpty)
    }

    @Test func unreachableRegistriesAndUnknownImagesSayWhat() throws {
        let s = try Scratch()
        let port = try TestRegistry.freePort()
        let refused = try s.pull("127.0.0.1:\(port)/cove/none:1")
        #expect(refused.status == 125)
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("127.0.0.1:\(port)") && refused.stderr.contains("connection refused"),
                "\(refused.stderr)")

        let registry = try TestRegistry()
        let unknown = try s.pull("\(registry.address)/cove/absent:2.0")
        #expect(unknown.status == 125)
        #expect(unknown.stderr.split(separator: "\n").count == 1, "\(unknown.stderr)")
        #expect(unknown.stderr.contains("manifest unknown") && unknown.stderr.contains("\(registry.address)/cove/absent:2.0"),
                "\(unknown.stderr)")
    }
}
