import Testing
@testable import CoveLinux

struct CapabilitySetTests {
    @Test func membersAscendAndStayInRange() {
        var s = CapabilitySet()
        #expect(s.values.isEmpty)
        for c: Int32 in [21, 0, 63, 7, 21, 64, -1, 100] { s.insert(c) }
        #expect(s.values == [0, 7, 21, 63])
        #expect(s.contains(0) && s.contains(63) && !s.contains(64) && !s.contains(-1) && !s.contains(8))
    }

    @Test func namesBecomeNumbers() {
        let (known, unknown) = Capabilities.values(["CAP_CHOWN", "CAP_KILL", "CAP_NOT_A_CAP", "CAP_SYS_ADMIN"])
        #expect(known.values == [0, 5, 21])
        #expect(unknown == ["CAP_NOT_A_CAP"])
    }
}

struct ContainerTapSettingsTests {
    @Test func theTapIsMadeAsCoveNetsArgumentsAsk() {
        #expect(ContainerTap.settings(fromHelperArguments: []) == (ContainerTap.defaultMTU, false))
        #expect(ContainerTap.settings(fromHelperArguments: ["--mtu", "1500", "--publish", "8080:80"]) == (1500, false))
        #expect(ContainerTap.settings(fromHelperArguments: ["--enable-ipv6", "--mtu=9000"]) == (9000, true))
        // Out of cove-net's range: the default, and cove-net's own refusal.
        #expect(ContainerTap.settings(fromHelperArguments: ["--mtu", "70000"]) == (ContainerTap.defaultMTU, false))
        #expect(ContainerTap.settings(fromHelperArguments: ["--mtu=100"]) == (ContainerTap.defaultMTU, false))
    }
}
