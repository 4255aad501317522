import CoveImages
import CoveModel
import Testing

/// `--change` parsing; the full comparison with podman is in
/// IntegrationTests/ImportSaveTests.
struct ImageChangesTests {
    @Test func bothSpellingsAndBothCommandForms() throws {
        let c = try ImageChanges(parsing: ["ENV=PATH=/bin", "ENV A=\"x\"", "CMD [\"echo\", \"hi\"]", "ENTRYPOINT top -b",
                                           "ENTRYPOINT []", "WORKDIR /a", "WORKDIR ../b", "STOPSIGNAL KILL", "EXPOSE 80 53/udp"])
        #expect(c.env == ["PATH=/bin", "A=x"])
        #expect(c.cmd == ["echo", "hi"])
        #expect(c.entrypoint == [])
        #expect(c.workingDir == "/b")
        #expect(c.stopSignal == "9")
        #expect(c.exposedPorts == ["80/tcp", "53/udp"])
        let shell = try ImageChanges(parsing: ["ENTRYPOINT top -b"])
        #expect(shell.entrypoint == ["/bin/sh", "-c", "top -b"])
    }

    /// podman 4.3 appends a repeated name rather than replacing it.
    @Test func aRepeatedEnvIsAppendedAsPodmanDoes() throws {
        let c = try ImageChanges(parsing: ["ENV A=1", "ENV B=2", "ENV A=3"])
        #expect(c.env == ["A=1", "B=2", "A=3"])
        #expect(c.configJSON["Env"] == .array([.string("A=1"), .string("B=2"), .string("A=3")]))
    }

    @Test(arguments: ["FROM x", "EXPOSE 0", "EXPOSE 80/sctp", "WORKDIR ", "LABEL =v", "ENV =x", "STOPSIGNAL BOGUS"])
    func refused(change: String) {
        #expect(throws: ImageError.self) { try ImageChanges(parsing: [change]) }
    }
}
