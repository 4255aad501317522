import CCoveShim
import Testing
@testable import CoveLinux

struct MountOptionsTests {
    @Test func sortsOptionsIntoFlagsPropagationAndData() {
        let o = MountOptions(["rbind", "ro", "nosuid", "rprivate", "mode=755", "size=65536k", "tmpcopyup"])
        #expect(o.bind && o.recursive)
        #expect(o.flags == COVE_MS_RDONLY | COVE_MS_NOSUID)
        #expect(o.propagation == [COVE_MS_PRIVATE | COVE_MS_REC])
        #expect(o.data == ["mode=755", "size=65536k"])
        #expect(o.ignored == ["tmpcopyup"])
    }

    @Test func laterOptionsWin() {
        let o = MountOptions(["ro", "rw", "noexec", "exec"])
        #expect(o.flags == 0)
        #expect(o.cleared & COVE_MS_RDONLY != 0)
    }

    @Test func propagationNames() {
        #expect(MountOptions.propagation(named: "rslave") == COVE_MS_SLAVE | COVE_MS_REC)
        #expect(MountOptions.propagation(named: "bogus") == nil)
    }
}

struct SignalTests {
    @Test(arguments: [("9", Int32(9)), ("KILL", 9), ("SIGKILL", 9), ("term", 15), ("0", 0), ("RTMIN+2", 36),
                      ("SIGRTMAX-1", 63), ("WINCH", 28)])
    func parsesNumbersAndNames(text: String, expected: Int32) { #expect(Signals.parse(text) == expected) }

    @Test(arguments: ["NOPE", "-1", "65", "RTMIN+99", ""])
    func rejectsTheRest(text: String) { #expect(Signals.parse(text) == nil) }
}

struct PathTests {
    @Test func normalizeFoldsDotsAndNeverClimbsAboveRoot() {
        #expect(Files.normalize("/a/./b/../c//d/") == "/a/c/d")
        #expect(Files.normalize("/../../etc") == "/etc")
        #expect(Files.normalize("") == "/" && Files.normalize("/") == "/" && Files.normalize("//") == "/")
        #expect(Files.normalize("a/..") == "/" && Files.normalize("a/b/..") == "/a")
        #expect(Files.normalize("/a/.b/..c/...") == "/a/.b/..c/...")
        #expect(Files.normalize("/ä/ö/../ü") == "/ä/ü")
        #expect(Files.absolute("x/y", relativeTo: "/base") == "/base/x/y")
    }

    @Test func exitStatusDecodesWaitStatus() {
        #expect(ExitStatus(raw: 7 << 8) == .exited(7))
        #expect(ExitStatus(raw: 9) == .signaled(9))
        #expect(ExitStatus(raw: 9).code == 137)
    }
}
