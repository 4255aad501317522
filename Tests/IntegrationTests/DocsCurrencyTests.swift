import Foundation
import Testing

/// The committed man pages (Man/) and completions (completions/) are what
/// the command tree gives today: scripts/gen-docs.py is run on the built
/// cove and its output compared, file by file, with the tree's. After a
/// change to a command, `make docs` brings them up to date.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct DocsCurrencyTests {
    /// Written by hand, not generated.
    static let helperPages: Set = ["cove-unshare.1", "cove-fs.1", "cove-net.1"]

    static let generated: Result<String, Error> = Result {
        let out = try Harness.temporaryDirectory("docs")
        let r = try Harness.run("/usr/bin/python3", [Harness.packageRoot + "/scripts/gen-docs.py", Harness.binary("cove"), out],
                                timeout: 120)
        guard r.status == 0 else { throw Harness.SetupFailure(description: "gen-docs.py: \(r.stderr)") }
        return out
    }

    func compare(_ sub: String, ignoring: Set<String> = []) throws {
        let out = try Self.generated.get()
        let fm = FileManager.default
        let fresh = Set(try fm.contentsOfDirectory(atPath: out + "/" + sub))
        let committed = Set(try fm.contentsOfDirectory(atPath: Harness.packageRoot + "/" + sub)).subtracting(ignoring)
        #expect(!fresh.isEmpty)
        #expect(fresh.subtracting(committed).sorted() == [], "missing from \(sub)/: run `make docs` and commit")
        #expect(committed.subtracting(fresh).sorted() == [], "stale in \(sub)/ (no such command now): run `make docs`")
        for name in fresh.intersection(committed).sorted() {
            let a = try String(contentsOfFile: out + "/\(sub)/" + name, encoding: .utf8)
            let b = try String(contentsOfFile: Harness.packageRoot + "/\(sub)/" + name, encoding: .utf8)
            #expect(a == b, "\(sub)/\(name) is out of date: run `make docs` and commit")
        }
    }

    @Test func manPagesAreCurrent() throws {
        try compare("Man", ignoring: Self.helperPages)
        let out = try Self.generated.get()
        for page in ["cove.1", "cove-run.1", "cove-import.1", "cove-save.1", "cove-image-inspect.1"] {
            #expect(FileManager.default.fileExists(atPath: out + "/Man/" + page), "\(page)")
        }
        // Each generated page is valid roff that man renders without warnings.
        let r = try Harness.run("/bin/sh", ["-c", "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l \(out)/Man/cove-save.1 2>&1 >/dev/null"])
        #expect(r.stdout.isEmpty && r.status == 0, "\(r.stdout)")
    }

    @Test func completionsAreCurrent() throws {
        try compare("completions")
        let out = try Self.generated.get()
        // bash reads its script and knows the subcommands.
        let bash = try Harness.run("/bin/bash", ["-c", "source \(out)/completions/cove.bash && complete -p cove"])
        #expect(bash.status == 0 && bash.stdout.contains("cove"), "\(bash.stderr)")
        let words = try String(contentsOfFile: out + "/completions/cove.bash", encoding: .utf8)
        #expect(words.contains("import") && words.contains("save"))
    }
}
