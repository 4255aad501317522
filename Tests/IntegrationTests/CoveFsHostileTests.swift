import Foundation
import Testing

/// Layers that try to write outside themselves, or to grow without bound:
/// each refused with one line naming the layer and the entry, nothing
/// written outside (the canary beside the store stays empty), and neither
/// the target nor a temporary left behind.
@Suite(.enabled(if: Harness.isUnprivileged, Harness.unprivilegedNote),
       .enabled(if: Harness.hasSubordinateIDs, Harness.subordinateNote))
struct CoveFsHostileTests {
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        /// Entries of a lower layer unpacked first, if any.
        var lower: (@Sendable (LayerStore) -> [[String: Any]])?
        let entries: @Sendable (LayerStore) -> [[String: Any]]
        var extra: [String] = []
        /// The refusal, after `entry "NAME" `.
        let refusal: @Sendable (LayerStore) -> String
    }

    static let cases: [Case] = [
        Case(description: "an absolute path",
             entries: { s in [["name": s.canary + "/pwned", "data": "x"]] },
             refusal: { s in "entry \"\(s.canary)/pwned\" is an absolute path" }),
        Case(description: "a '..' that climbs out",
             entries: { _ in [["name": "a/", "type": "dir"], ["name": "a/../../../canary/pwned", "data": "x"]] },
             refusal: { _ in "entry \"a/../../../canary/pwned\" climbs out of the layer with '..'" }),
        Case(description: "a parent that is a symlink of this layer",
             entries: { s in [["name": "evil", "type": "symlink", "link": s.canary],
                              ["name": "evil/pwned", "data": "x"]] },
             refusal: { _ in "entry \"evil/pwned\" runs through the symlink evil of this layer" }),
        Case(description: "a relative symlink of this layer deeper down",
             entries: { _ in [["name": "d/", "type": "dir"], ["name": "d/up", "type": "symlink", "link": "../../../canary"],
                              ["name": "d/up/x/pwned", "data": "x"]] },
             refusal: { _ in "entry \"d/up/x/pwned\" runs through the symlink d/up of this layer" }),
        Case(description: "a parent that is a symlink in a lower layer",
             lower: { s in [["name": "lnk", "type": "symlink", "link": s.canary]] },
             entries: { _ in [["name": "lnk/pwned", "data": "x"]] },
             refusal: { _ in "entry \"lnk/pwned\" runs through lnk, a symlink in lower layer 1 (top first)" }),
        Case(description: "a whiteout through a lower symlink",
             lower: { s in [["name": "lnk", "type": "symlink", "link": s.canary]] },
             entries: { _ in [["name": "lnk/.wh.pwned"]] },
             refusal: { _ in "entry \"lnk/.wh.pwned\" runs through lnk, a symlink in lower layer 1 (top first)" }),
        Case(description: "a hardlink out of the layer",
             entries: { _ in [["name": "h", "type": "hardlink", "link": "../../canary/x"]] },
             refusal: { _ in "entry \"h\" is a hardlink to ../../canary/x, outside the layer" }),
        Case(description: "a hardlink to an absolute path",
             entries: { _ in [["name": "h", "type": "hardlink", "link": "/etc/passwd"]] },
             refusal: { _ in "entry \"h\" is a hardlink to /etc/passwd, outside the layer" }),
        Case(description: "a hardlink to a later entry",
             entries: { _ in [["name": "h", "type": "hardlink", "link": "later"], ["name": "later", "data": "x"]] },
             refusal: { _ in "entry \"h\" is a hardlink to later, which is no earlier entry of the layer" }),
        Case(description: "a layer larger than --max-size",
             entries: { _ in [["name": "small", "data": "x"], ["name": "big", "size": 2 << 20]] },
             extra: ["--max-size", "1048576"],
             refusal: { _ in "entry \"big\" makes the layer expand beyond 1048576 bytes (--max-size)" }),
        Case(description: "a sparse file declaring far more than --max-size",
             entries: { _ in [["name": "holes", "sparse": 1 << 44, "data": "x"]] },
             extra: ["--max-size", "1048576"],
             refusal: { _ in "entry \"holes\" makes the layer expand beyond 1048576 bytes (--max-size)" }),
        Case(description: "more entries than --max-entries",
             entries: { _ in (0..<20).map { ["name": "f\($0)", "data": "x"] } },
             extra: ["--max-entries", "10"],
             refusal: { _ in "entry \"f10\" is past the bound of 10 entries (--max-entries)" }),
    ]

    @Test(arguments: cases)
    func isRefusedWithNothingLeftBehind(_ c: Case) throws {
        let store = try LayerStore("hostile")
        var lowers: [String] = []
        if let lower = c.lower {
            let r = try store.unpack(try store.layer(lower(store)), into: "low")
            try #require(r.status == 0, "\(r.stderr)")
            lowers = ["low"]
        }
        let l = try store.layer(c.entries(store))
        let r = try store.unpack(l, into: "evil", lowers: lowers, extra: c.extra)
        #expect(r.status == 125)
        #expect(r.stderr == "cove-fs: layer \(l.diffID) refused: \(c.refusal(store))\n")
        #expect(store.canaryIsEmpty())
        #expect(store.layerNames() == lowers)
    }
}
