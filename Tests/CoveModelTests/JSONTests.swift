import Testing
@testable import CoveModel

struct JSONTests {
    @Test func parsesAndKeepsKeyOrderAndNumberText() throws {
        let text = #"{"b":1,"a":[true,false,null],"big":18446744073709551615,"f":-1.5e3,"s":"x\"y\\z\n\u00e9\ud83d\ude00"}"#
        let j = try JSON.parse(text)
        #expect(j.objectValue?.map(\.0) == ["b", "a", "big", "f", "s"])
        #expect(j["big"]?.uint64Value == UInt64.max)
        #expect(j["f"]?.int64Value == -1500)
        #expect(j["s"]?.stringValue == "x\"y\\z\né😀")
        #expect(j["a"] == .array([.bool(true), .bool(false), .null]))
        // A round trip gives the same value and the same number text.
        let again = try JSON.parse(j.serialized())
        #expect(again == j)
        #expect(j.serialized().contains("18446744073709551615"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"unterminated", "01x", "{\"a\":1} x", "[\"\u{01}\"]"])
    func rejectsBrokenDocuments(text: String) {
        #expect(throws: JSONError.self) { try JSON.parse(text) }
    }

    @Test func refusesDeepNestingInsteadOfCrashing() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONError.self) { try JSON.parse(deep) }
    }

    @Test func prettyOutputIsIndentedAndEscaped() {
        let j = JSON.object([("k", .string("a\tb")), ("n", .array([.int(1), .int(2)])), ("e", .object([]))])
        #expect(j.serialized(pretty: true) == "{\n  \"k\": \"a\\tb\",\n  \"n\": [\n    1,\n    2\n  ],\n  \"e\": {}\n}")
    }

    /// The exact text: digests of manifests and configs cove writes, and
    /// the seccomp cache's keys, depend on it.
    @Test func escapesAreExactAndOtherBytesPassThrough() {
        let j = JSON.array([.string("q\"b\\n\nr\rt\t\u{01}\u{1f}\u{7f}é😀/"), .number("-1.5e3"), .null, .bool(false)])
        #expect(j.serialized() == #"["q\"b\\n\nr\rt\t\u0001\u001f\#u{7f}é😀/",-1.5e3,null,false]"#)
        #expect(j.serializedBytes() == Array(j.serialized().utf8))
        #expect(JSON.object([]).serialized() == "{}" && JSON.array([]).serialized(pretty: true) == "[]")
    }

    @Test func settingReplacesInPlaceOrAppends() {
        let j = JSON.object([("a", .int(1)), ("b", .int(2))])
        #expect(j.setting("a", .int(9)).objectValue?.map(\.0) == ["a", "b"])
        #expect(j.setting("c", .null).objectValue?.map(\.0) == ["a", "b", "c"])
    }
}
