import Foundation
import Testing

/// config.md's hooks: order, where they run, state on stdin, failure rules.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct RuntimeHookTests {
    /// A hook that records its name and its stdin under $OUT.
    static func hook(_ name: String, out: String, fail: Bool = false) -> [String: Any] {
        ["path": "/bin/sh", "args": ["sh", "-c", "cat > \"$OUT/\(name).json\"; echo \(name) >> \"$OUT/order\"\(fail ? "; exit 3" : "")"],
         "env": ["OUT=\(out)", "PATH=/bin:/usr/bin"], "timeout": 10]
    }

    @Test func hooksRunInOrderWithTheStateOnStdin() throws {
        let b = try Bundle()
        let out = b.dir + "/hooks"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        b.mounts.append(["destination": "/hooks", "type": "bind", "source": out, "options": ["rbind"]])
        b.setArgs(["sh", "-c", "echo >> /hooks/order process; sleep 60"])
        b.config["hooks"] = [
            "prestart": [Self.hook("prestart", out: out)],
            "createRuntime": [Self.hook("createRuntime", out: out)],
            "createContainer": [Self.hook("createContainer", out: out)],
            "startContainer": [Self.hook("startContainer", out: "/hooks")],
            "poststart": [Self.hook("poststart", out: out)],
            "poststop": [Self.hook("poststop", out: out)],
        ]
        #expect(try b.runtime(["create", "--bundle", b.dir, "h1"]).status == 0)
        #expect(try b.runtime(["start", "h1"]).status == 0)
        for _ in 0..<300 {
            if ((try? String(contentsOfFile: out + "/order", encoding: .utf8)) ?? "").contains("process") { break }
            usleep(10_000)
        }
        #expect(try b.runtime(["delete", "--force", "h1"]).status == 0)
        let order = try String(contentsOfFile: out + "/order", encoding: .utf8).split(separator: "\n").map(String.init)
        // poststart may run before or after the process's first line.
        #expect(order.filter { $0 != "process" } ==
                ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"])
        #expect(order.firstIndex(of: "startContainer")! < order.firstIndex(of: "process")!)
        for name in ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(name).json"))
            let state = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(state?["id"] as? String == "h1", "\(name)")
            #expect(state?["ociVersion"] is String, "\(name)")
            #expect(state?["bundle"] as? String == b.dir, "\(name)")
            #expect(state?["status"] is String, "\(name)")
            if name != "poststop" { #expect((state?["pid"] as? Int ?? 0) > 0, "\(name)") }
        }
    }

    @Test func aFailingCreateRuntimeHookFailsCreateAndLeavesNothing() throws {
        let b = try Bundle()
        let out = b.dir + "/hooks"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        b.setArgs(["sleep", "60"])
        b.config["hooks"] = ["createRuntime": [Self.hook("createRuntime", out: out, fail: true)]]
        let r = try b.runtime(["create", "--bundle", b.dir, "h2"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("createRuntime hook 0"))
        #expect(try b.runtime(["list", "--quiet"]).stdout.isEmpty)
    }

    @Test func aFailingPoststartHookIsOnlyAWarning() throws {
        let b = try Bundle()
        let out = b.dir + "/hooks"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        b.setArgs(["sleep", "60"])
        b.config["hooks"] = ["poststart": [Self.hook("poststart", out: out, fail: true), Self.hook("second", out: out)]]
        #expect(try b.runtime(["create", "--bundle", b.dir, "h3"]).status == 0)
        let start = try b.runtime(["start", "h3"])
        #expect(start.status == 0)
        #expect(start.stderr.contains("poststart hook 0"))
        #expect(try b.state("h3")?["status"] as? String == "running")
        #expect(FileManager.default.fileExists(atPath: out + "/second.json"))
        _ = try b.runtime(["delete", "--force", "h3"])
    }

    @Test func aHookPastItsTimeoutIsKilled() throws {
        let b = try Bundle()
        b.setArgs(["true"])
        b.config["hooks"] = ["createRuntime": [["path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1]]]
        let r = try b.runtime(["create", "--bundle", b.dir, "h4"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("timed out"))
    }
}
