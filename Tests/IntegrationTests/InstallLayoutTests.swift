import Foundation
import Testing

/// `make install`'s layout: cove in PREFIX/bin finds its helpers in
/// PREFIX/libexec/cove, wherever PATH found cove.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct InstallLayoutTests {
    @Test func coveFindsItsHelpersInLibexec() throws {
        let prefix = try Harness.temporaryDirectory("prefix")
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: prefix + "/libexec/cove", withIntermediateDirectories: true)
        try Harness.copyExecutable(Harness.binary("cove"), to: prefix + "/bin/cove")
        try Harness.copyExecutable(Harness.binary("cove-unshare"), to: prefix + "/libexec/cove/cove-unshare")
        let r = try Harness.run("/bin/sh", ["-c", "PATH=\(prefix)/bin:/usr/bin:/bin cove info"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("cove-unshare: \(prefix)/libexec/cove/cove-unshare"))
        #expect(r.stdout.contains("cove-fs: not found"))
    }

    /// `make install-files DESTDIR=… PREFIX=/usr` (what `make install` runs
    /// after its release build) stages every file in its standard place, and
    /// `make uninstall` with the same variables takes them all away again.
    @Test func aDestdirInstallHasTheStandardLayoutAndUninstallEmptiesIt() throws {
        let dest = try Harness.temporaryDirectory("destdir")
        defer { try? FileManager.default.removeItem(atPath: dest) }
        let vars = ["-C", Harness.packageRoot, "DESTDIR=\(dest)", "PREFIX=/usr", "BIN=\(Harness.binDir)"]
        let install = try Harness.run("/usr/bin/make", ["--no-print-directory", "install-files"] + vars, timeout: 120)
        #expect(install.status == 0, "\(install.stderr)")
        let fm = FileManager.default
        let pages = try fm.contentsOfDirectory(atPath: Harness.packageRoot + "/Man").filter { $0.hasSuffix(".1") }
        var expected = ["usr/bin/cove", "usr/libexec/cove/cove-unshare", "usr/libexec/cove/cove-fs", "usr/libexec/cove/cove-net", "usr/libexec/cove/cove-registry",
                        "usr/share/bash-completion/completions/cove", "usr/share/zsh/site-functions/_cove",
                        "usr/share/fish/vendor_completions.d/cove.fish"]
        expected += pages.map { "usr/share/man/man1/" + $0 }
        #expect(pages.contains("cove-run.1") && pages.contains("cove-unshare.1") && pages.contains("cove.1"))
        let found = Set((fm.enumerator(atPath: dest)?.allObjects as? [String] ?? []).filter { !Self.isDirectory(dest + "/" + $0) })
        #expect(found == Set(expected), "extra: \(found.subtracting(expected).sorted()) missing: \(Set(expected).subtracting(found).sorted())")
        #expect(Self.mode(dest + "/usr/bin/cove") == 0o755)
        #expect(Self.mode(dest + "/usr/share/man/man1/cove-run.1") == 0o644)
        // The staged cove finds its staged helpers.
        let info = try Harness.run(dest + "/usr/bin/cove", ["info"])
        #expect(info.stdout.contains("cove-net: \(dest)/usr/libexec/cove/cove-net"), "\(info.stdout)")

        let uninstall = try Harness.run("/usr/bin/make", ["--no-print-directory", "uninstall"] + vars, timeout: 120)
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        let left = (fm.enumerator(atPath: dest)?.allObjects as? [String] ?? []).filter { !Self.isDirectory(dest + "/" + $0) }
        #expect(left == [], "left after uninstall: \(left)")
    }

    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    static func mode(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }
}
