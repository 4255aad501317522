import Foundation
import Testing

/// A layer store in a temporary directory for cove-fs tests: layers are
/// written as tar files by Fixtures/make-layer.py and unpacked into
/// `layers/`; `canary/` beside it must stay empty whatever a layer tries.
final class LayerStore {
    let dir: String
    var layers: String { dir + "/layers" }
    var canary: String { dir + "/canary" }
    private var count = 0

    static let maker = Harness.packageRoot + "/Tests/IntegrationTests/Fixtures/make-layer.py"
    static let lister = Harness.packageRoot + "/Tests/IntegrationTests/Fixtures/tree-listing.py"

    init(_ tag: String = "fs") throws {
        dir = try Harness.temporaryDirectory(tag)
        for d in [layers, canary] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
    }

    deinit {
        // Files of subordinate ids: only cove-fs remove (in the namespace) can delete them.
        _ = try? Harness.run(Harness.binary("cove-fs"), ["remove", dir], timeout: 60)
        try? FileManager.default.removeItem(atPath: dir)
    }

    struct Layer { let blob: String; let diffID: String }

    /// Writes a layer tar (entries as make-layer.py reads them).
    func layer(_ entries: [[String: Any]], compression: String = "none") throws -> Layer {
        count += 1
        let spec = dir + "/spec-\(count).json"
        let blob = dir + "/blob-\(count).tar"
        try JSONSerialization.data(withJSONObject: entries).write(to: URL(fileURLWithPath: spec))
        let r = try Harness.run("/usr/bin/python3", [LayerStore.maker, blob, spec, compression])
        guard r.status == 0 else { throw Harness.SetupFailure(description: "make-layer.py: \(r.stderr)") }
        return Layer(blob: blob, diffID: r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @discardableResult
    func unpack(_ l: Layer, into name: String, lowers: [String] = [], extra: [String] = [],
                diffID: String? = nil) throws -> Harness.Output {
        var args = ["unpack", "--blob", l.blob, "--diff-id", diffID ?? l.diffID, "--into", layers + "/" + name]
        for lower in lowers { args += ["--lower", layers + "/" + lower] }
        return try Harness.run(Harness.binary("cove-fs"), args + extra, timeout: 120)
    }

    /// Names in `layers/` (a refused unpack leaves neither its DIR nor a temporary).
    func layerNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: layers)) ?? []).sorted()
    }
    func canaryIsEmpty() -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: canary)) ?? ["unreadable"]).isEmpty
    }

    /// Runs a shell script as root of a user namespace mapped like cove's
    /// (you as 0, the subordinate range from 1) with its own mount namespace.
    static func inNamespace(_ script: String, timeout: Double = 60) throws -> Harness.Output {
        try Harness.run("/usr/bin/unshare", ["--map-auto", "--map-root-user", "--mount", "/bin/sh", "-c", script],
                        timeout: timeout)
    }

    /// tree-listing.py of `root`, seen from inside the namespace.
    static func listing(_ root: String) throws -> String {
        let r = try inNamespace("exec python3 '\(lister)' '\(root)'")
        guard r.status == 0 else { throw Harness.SetupFailure(description: "listing \(root): \(r.stderr)") }
        return r.stdout
    }
}

extension Harness {
    static var hasSubordinateIDs: Bool {
        subordinateRange("/etc/subuid") != nil && subordinateRange("/etc/subgid") != nil
    }
    static let subordinateNote: Comment = "needs /etc/subuid and /etc/subgid ranges for the test user (scripts/prepare-host.sh)"
}
