import Testing
@testable import CoveModel

struct PlainStringsTests {
    @Test func joinedPlainIsJoined() {
        for parts in [[], [""], ["a"], ["a", "b"], ["", "x", ""], ["lower", "upper", "work"]] {
            #expect(parts.joinedPlain(":") == parts.joined(separator: ":"))
            let subs = parts.map { Substring($0) }
            #expect(subs.joinedPlain("/") == subs.joined(separator: "/"))
        }
        #expect(["a", "b"].joinedPlain("") == "ab")
    }

    @Test func parentComponentsAreFound() {
        for p in ["..", "/..", "../x", "/a/../b", "a/..", "/tmp/x/../y", "a//../"] { #expect(p.hasParentComponent, "\(p)") }
        for p in ["", "/", ".", "...", "/a/b", "a..b", "/a/..b/c", "/a/b../c", "/.../", "./a", "/tmp/cove-net-1/x"] {
            #expect(!p.hasParentComponent, "\(p)")
        }
    }
}
