import CoveModel
import Testing

struct LayerPathTests {
    @Test(arguments: [
        ("etc/passwd", LayerPath.entry(["etc", "passwd"])),
        ("./etc//passwd", .entry(["etc", "passwd"])),
        ("a/b/../c/", .entry(["a", "c"])),
        (".", .root), ("./", .root),
        ("usr/.wh.bin", .whiteout(parent: ["usr"], name: "bin")),
        (".wh.gone", .whiteout(parent: [], name: "gone")),
        ("d/.wh..wh..opq", .opaque(parent: ["d"])),
        ("d/.wh..wh.plnk", .aufsMetadata),
        ("a/.whatever", .entry(["a", ".whatever"])),
    ])
    func parses(_ raw: String, _ expected: LayerPath) throws {
        #expect(try LayerPath.parse(raw).get() == expected)
    }

    @Test(arguments: [
        ("/etc/passwd", LayerPath.Refusal.absolute),
        ("../x", .escapes),
        ("a/../../x", .escapes),
        ("./..", .escapes),
        ("d/.wh.", .badWhiteout),
        ("d/.wh...", .badWhiteout),
    ])
    func refuses(_ raw: String, _ why: LayerPath.Refusal) {
        #expect(throws: why) { try LayerPath.parse(raw).get() }
    }

    @Test func refusalsReadAsTheUserSeesThem() {
        #expect(LayerPath.Refusal.escapes.description == "climbs out of the layer with '..'")
        #expect(LayerPath.Refusal.absolute.description == "is an absolute path")
    }
}
