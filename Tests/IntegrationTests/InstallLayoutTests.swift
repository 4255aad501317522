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
}
