import Foundation
import Testing

/// `cove doctor` on this machine, as the prepared test user.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote))
struct DoctorIntegrationTests {
    @Test func thePreparedTestUserHasNoProblems() throws {
        let r = try Harness.run(Harness.binary("cove"), ["doctor"])
        #expect(r.status == 0, "\(r.stdout)")
        #expect(r.stdout.contains("ok: /etc/subuid: 65536 uids"))
        #expect(r.stdout.contains("ok: newuidmap"))
        #expect(r.stdout.contains("ok: /dev/net/tun: usable"))
    }

    @Test func anUnsetRuntimeDirectoryIsNotedWithItsFix() throws {
        let r = try Harness.run("/usr/bin/env", ["-u", "XDG_RUNTIME_DIR", Harness.binary("cove"), "doctor", "--quiet"])
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("note: XDG_RUNTIME_DIR: unset") }
        #expect(line?.contains("fix:") == true, "\(r.stdout)")
        #expect(!r.stdout.contains("ok: "))
    }
}
