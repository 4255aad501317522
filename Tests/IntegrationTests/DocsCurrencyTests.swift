import Foundation
import Testing

/// The committed man pages (Man/) and completions (completions/) are what
/// the command tree gives today: scripts/gen-docs.py is run on the built
/// cove and its output compared, file by file, with the tree's. After a
/// change to a command, `make docs` brings them up to date.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct DocsCurrencyTests {
    /// Written by hand, not generated.
    static let helperPages: Set = ["cove-unshare.1", "cove-fs.1", "cove-net.1", "cove-registry.1"]

    /// What gen-docs.py writes today: directory → file name → contents.
    static let generated: Result<[String: [String: String]], Error> = Result {
        let out = try Harness.temporaryDirectory("docs")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try Harness.run("/usr/bin/python3", [Harness.packageRoot + "/scripts/gen-docs.py", Harness.binary("cove"), out],
                                timeout: 120)
        guard r.status == 0 else { throw Harness.SetupFailure(description: "gen-docs.py: \(r.stderr)") }
        var files: [String: [String: String]] = [:]
        for sub in ["Man", "completions"] {
            for name in try FileManager.default.contentsOfDirectory(atPath: out + "/" + sub) {
                files[sub, default: [:]][name] = try String(contentsOfFile: out + "/\(sub)/" + name, encoding: .utf8)
            }
        }
        return files
    }

    func compare(_ sub: String, ignoring: Set<String> = []) throws {
        let generated = try Self.generated.get()[sub] ?? [:]
        let fresh = Set(generated.keys)
        let committed = Set(try FileManager.default.contentsOfDirectory(atPath: Harness.packageRoot + "/" + sub)).subtracting(ignoring)
        #expect(!fresh.isEmpty)
        #expect(fresh.subtracting(committed).sorted() == [], "missing from \(sub)/: run `make docs` and commit")
        #expect(committed.subtracting(fresh).sorted() == [], "stale in \(sub)/ (no such command now): run `make docs`")
        for name in fresh.intersection(committed).sorted() {
            let b = try String(contentsOfFile: Harness.packageRoot + "/\(sub)/" + name, encoding: .utf8)
            #expect(generated[name] == b, "\(sub)/\(name) is out of date: run `make docs` and commit")
        }
    }

    @Test func manPagesAreCurrent() throws {
        try compare("Man", ignoring: Self.helperPages)
        let man = try Self.generated.get()["Man"] ?? [:]
        for page in ["cove.1", "cove-run.1", "cove-import.1", "cove-save.1", "cove-image-inspect.1"] {
            #expect(man[page] != nil, "\(page)")
        }
        // The committed pages are roff that man renders without a warning.
        let r = try Harness.run("/bin/sh", ["-c", "cd \(Harness.packageRoot)/Man && for p in cove*.1; do "
                                            + "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l $p 2>&1 >/dev/null; done"])
        #expect(r.stdout.isEmpty && r.status == 0, "\(r.stdout)")
    }

    @Test func completionsAreCurrent() throws {
        try compare("completions")
        // bash reads the script and completes cove's subcommands with it.
        let bash = try Harness.run("/bin/bash", ["-c", "source \(Harness.packageRoot)/completions/cove.bash && complete -p cove"])
        #expect(bash.status == 0 && bash.stdout.contains("cove"), "\(bash.stderr)")
        let script = try Self.generated.get()["completions"]?["cove.bash"] ?? ""
        #expect(script.contains("import") && script.contains("save"))
    }
}
