import Testing
@testable import CoveEngine

/// -p as docker reads it: each form expanded to IP:HOST:CTR/proto entries.
struct PortPublishTests {
    /// Host ports chosen by a fixed function: the container port plus 1000.
    static func expand(_ spec: String) throws -> [String] {
        try PortPublish(parsing: spec).expand(isFree: { _, port, _ in port % 2 == 1 }, choose: { _, _ in 4242 })
    }

    @Test(arguments: [
        ("8080:80", ["0.0.0.0:8080:80/tcp"]),
        ("127.0.0.1:8000-8002:80-82/udp", ["127.0.0.1:8000:80/udp", "127.0.0.1:8001:81/udp", "127.0.0.1:8002:82/udp"]),
        ("80", ["0.0.0.0:4242:80/tcp"]),
        ("80-81", ["0.0.0.0:4242:80/tcp", "0.0.0.0:4242:81/tcp"]),
        ("127.0.0.1::80", ["127.0.0.1:4242:80/tcp"]),
        ("[::1]:8080:80", ["[::1]:8080:80/tcp"]),
        ("[::1]::80/udp", ["[::1]:4242:80/udp"]),
        // A host range for one container port: the first free one in it.
        ("9000-9003:80", ["0.0.0.0:9001:80/tcp"]),
    ])
    func forms(_ spec: String, _ want: [String]) throws {
        #expect(try Self.expand(spec) == want)
    }

    @Test(arguments: ["8000-8002:80-83", "80/sctp", "0:80", "70000:80", "a:80", "1.2.3.4:5:6:7", "[::1:80:80", "9-8:80", "::1:80:80"])
    func rejected(_ spec: String) {
        #expect(throws: EngineError.self) { try PortPublish(parsing: spec) }
    }

    /// Two -p that may pick from the same range, or both want a free port,
    /// get different host ports (probe binds on loopback only).
    @Test func portsChosenForSeveralPublishesDiffer() throws {
        let ranged = try PortPublish.expandAll(["127.0.0.1:18700-18709:80", "127.0.0.1:18700-18709:443"])
        let hosts = ranged.map { $0.split(separator: ":")[1] }
        #expect(ranged.count == 2 && hosts[0] != hosts[1], "\(ranged)")
        let free = try PortPublish.expandAll(["127.0.0.1::80", "127.0.0.1::81/tcp"])
        #expect(free.count == 2 && free[0].split(separator: ":")[1] != free[1].split(separator: ":")[1], "\(free)")
    }
}
