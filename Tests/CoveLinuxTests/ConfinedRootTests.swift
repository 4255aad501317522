import Foundation
import Testing
@testable import CoveLinux

/// Path resolution inside a root needs no privileges: checked on a
/// temporary tree with hostile symlinks.
struct ConfinedRootTests {
    func tree() throws -> String {
        let dir = NSTemporaryDirectory() + "/cove-root-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir + "/abs", withDestinationPath: "/etc")
        try fm.createSymbolicLink(atPath: dir + "/up", withDestinationPath: "../../../../tmp")
        try fm.createSymbolicLink(atPath: dir + "/loop", withDestinationPath: "loop")
        return dir
    }

    @Test func symlinksResolveAsIfTheRootWereSlash() throws {
        let dir = try tree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = try ConfinedRoot(dir)
        defer { root.close() }
        #expect(try root.resolve("/abs/passwd") == ["etc", "passwd"])
        #expect(try root.resolve("/up/x") == ["tmp", "x"])
        #expect(try root.resolve("a/../../b") == ["b"])
    }

    @Test func makeDirectoriesStaysInside() throws {
        let dir = try tree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = try ConfinedRoot(dir)
        defer { root.close() }
        let marker = "cove-escape-\(UUID().uuidString)"
        try root.makeDirectories("/up/\(marker)/deeper")
        #expect(FileManager.default.fileExists(atPath: dir + "/tmp/\(marker)/deeper"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(marker)"))
        try root.makeFile("/abs/newfile")
        #expect(FileManager.default.fileExists(atPath: dir + "/etc/newfile"))
    }

    @Test func aSymlinkLoopIsAnError() throws {
        let dir = try tree()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = try ConfinedRoot(dir)
        defer { root.close() }
        #expect(throws: SyscallError.self) { try root.resolve("/loop/x") }
    }
}
