import CoveImages
import CoveModel
import Glibc
import Testing

struct AuthChallengeTests {
    @Test func parsesDockerHubsBearerChallenge() {
        let c = AuthChallenge.parse(
            #"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#)
        #expect(c == [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.docker.io/token", "service": "registry.docker.io",
            "scope": "repository:library/alpine:pull"])])
    }

    @Test func parsesBasicWithSpacesCaseAndEscapes() {
        let c = AuthChallenge.parse(#"BASIC  Realm = "say \"hi\", please" "#)
        #expect(c == [AuthChallenge(scheme: "basic", parameters: ["realm": #"say "hi", please"#])])
    }

    @Test func parsesSeveralChallengesAndCommasInsideQuotes() {
        let c = AuthChallenge.parse(#"Basic realm="a,b", Bearer realm="https://t/x?y=1",scope="repository:a/b:pull,push""#)
        #expect(c.map(\.scheme) == ["basic", "bearer"])
        #expect(c.first?.realm == "a,b")
        #expect(c.last?.realm == "https://t/x?y=1")
        #expect(c.last?.scope == "repository:a/b:pull,push")
    }

    @Test(arguments: ["", ",", "   ", "=", "\"", "Bearer realm=", "Bearer realm=\"unterminated"])
    func oddHeadersEndWithoutTrouble(header: String) {
        let parsed = AuthChallenge.parse(header)
        #expect(parsed.allSatisfy { !$0.scheme.isEmpty && !$0.scheme.contains("=") })
        #expect(parsed.map(\.scheme) == (header.hasPrefix("Bearer") ? ["bearer"] : []))
    }

    @Test func unquotedValues() {
        #expect(AuthChallenge.parse("Bearer realm=https://t/token,service=reg").first?.parameters
                == ["realm": "https://t/token", "service": "reg"])
    }
}

struct PlatformTests {
    func p(_ s: String) throws -> Platform { try Platform(parsing: s) }

    @Test(arguments: [("linux/amd64", "linux/amd64"), ("linux/x86_64", "linux/amd64"),
                      ("linux/aarch64", "linux/arm64/v8"), ("linux/arm64", "linux/arm64/v8"),
                      ("linux/arm", "linux/arm/v7"), ("linux/arm/6", "linux/arm/v6"), ("Linux/ARM64/V8", "linux/arm64/v8")])
    func normalizes(text: String, expected: String) throws {
        #expect(try p(text).description == expected)
    }

    @Test(arguments: ["linux", "linux/", "/amd64", "a/b/c/d", ""])
    func refusesBadSyntax(text: String) {
        #expect(throws: ImageError.self) { try Platform(parsing: text) }
    }

    @Test func selectsTheMatchingEntryAndSkipsThoseWithoutPlatform() throws {
        let entries: [(platform: Platform?, item: String)] = [
            (nil, "attestation"), (try p("linux/amd64"), "amd64"), (try p("linux/arm/v6"), "armv6"),
            (try p("linux/arm/v7"), "armv7"), (try p("linux/arm64"), "arm64"),
        ]
        #expect(try p("linux/amd64").select(entries) == "amd64")
        #expect(try p("linux/arm64").select(entries) == "arm64")
        #expect(try p("linux/arm64/v8").select(entries) == "arm64")
        #expect(try p("linux/arm").select(entries) == "armv7")
        #expect(try p("linux/arm/v6").select(entries) == "armv6")
        #expect(try p("linux/s390x").select(entries) == nil)
        #expect(try p("windows/amd64").select(entries) == nil)
    }

    @Test func theHostIsLinux() {
        #expect(Platform.host.os == "linux")
        #expect(!Platform.host.architecture.isEmpty)
    }
}

struct RegistryEndpointTests {
    @Test func dockerHubsAPIHostAndURLs() throws {
        let ref = try ImageReference(parsing: "alpine")
        let e = RegistryEndpoint(registry: ref.registry)
        #expect(e.host == "registry-1.docker.io")
        #expect(e.schemes == ["https"])
        #expect(e.url("https", RegistryEndpoint.manifestPath(repository: ref.repository, reference: ref.tag ?? ""))
                == "https://registry-1.docker.io/v2/library/alpine/manifests/latest")
    }

    @Test func aLoopbackRegistryByDigest() throws {
        let hex = String(repeating: "ab", count: 32)
        let ref = try ImageReference(parsing: "127.0.0.1:5000/team/app@sha256:\(hex)")
        let e = RegistryEndpoint(registry: ref.registry)
        #expect(e.insecure)
        #expect(e.schemes == ["http", "https"])
        #expect(e.url("http", RegistryEndpoint.manifestPath(repository: ref.repository, reference: ref.digest ?? ""))
                == "http://127.0.0.1:5000/v2/team/app/manifests/sha256:\(hex)")
        #expect(e.url("http", RegistryEndpoint.blobPath(repository: ref.repository, digest: try Digest(hex: hex)))
                == "http://127.0.0.1:5000/v2/team/app/blobs/sha256:\(hex)")
    }

    @Test(arguments: [("localhost:5000", true), ("localhost", true), ("127.0.0.1", true), ("127.1.2.3:80", true),
                      ("[::1]:5000", true), ("::1", true), ("128.0.0.1", false), ("127.0.0.1.example.com", false),
                      ("quay.io", false), ("localhost.localdomain", false)])
    func loopback(host: String, expected: Bool) {
        #expect(RegistryEndpoint.isLoopback(host) == expected)
    }

    @Test func tlsVerifyFalseAllowsPlainHTTPAfterHTTPS() {
        let e = RegistryEndpoint(registry: "reg.example:5000", tlsVerify: false)
        #expect(e.insecure && e.schemes == ["https", "http"])
    }

    @Test(arguments: [
        ("https://storage.example/b?sig=1", "https://r.example/v2/a/blobs/x", "https://storage.example/b?sig=1"),
        ("/v2/a/blobs/y", "https://r.example:5000/v2/a/blobs/x", "https://r.example:5000/v2/a/blobs/y"),
        ("y", "http://r.example/v2/a/blobs/x?q=1", "http://r.example/v2/a/blobs/y"),
        ("//cdn.example/z", "https://r.example/v2/x", "https://cdn.example/z"),
    ])
    func redirectLocations(location: String, base: String, expected: String) {
        #expect(RegistryEndpoint.resolve(location, against: base) == expected)
    }

    @Test func originsDecideWhereCredentialsGo() {
        #expect(RegistryEndpoint.origin("https://r.example:5000/v2/x?y") == "https://r.example:5000")
        #expect(RegistryEndpoint.origin("http://127.0.0.1:1/") == "http://127.0.0.1:1")
        #expect(RegistryEndpoint.origin("https://r.example?x") == "https://r.example")
    }
}

struct AuthFileTests {
    @Test func storesReadsAndRemovesInPodmansFormat() throws {
        let dir = TestDir(); defer { dir.remove() }
        let file = AuthFile(path: dir.path + "/containers/auth.json", dockerConfig: nil)
        #expect(try file.credentials(registry: "r.example") == nil)
        try file.store(Credentials(username: "u", password: "p:w"), registry: "r.example")
        try file.store(Credentials(username: "v", password: "x"), registry: "other.example")
        var st = stat()
        #expect(stat(file.path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        let json = try JSON.parse(try String(decoding: readAll(file.path), as: UTF8.self))
        #expect(json["auths"]?["r.example"]?["auth"]?.stringValue == "dTpwOnc=")
        #expect(try file.credentials(registry: "r.example", repository: "a/b") == Credentials(username: "u", password: "p:w"))
        #expect(try file.remove(registry: "r.example"))
        #expect(try !file.remove(registry: "r.example"))
        #expect(try file.credentials(registry: "r.example") == nil)
        #expect(try file.credentials(registry: "other.example")?.username == "v")
        #expect(try file.removeAll())
        #expect(try !file.removeAll())
    }

    @Test func readsDockersConfigAndNamespacedKeys() throws {
        let dir = TestDir(); defer { dir.remove() }
        let docker = dir.path + "/config.json"
        try write(docker, #"{"auths":{"https://index.docker.io/v1/":{"auth":"aHViOnB3"}}}"#)
        let podman = dir.path + "/auth.json"
        try write(podman, #"{"auths":{"r.example/team":{"auth":"dGVhbTpwdw=="},"r.example":{"auth":"YWxsOnB3"}}}"#)
        let file = AuthFile(path: podman, dockerConfig: docker)
        #expect(try file.credentials(registry: "docker.io", repository: "library/alpine")?.username == "hub")
        #expect(try file.credentials(registry: "r.example", repository: "team/app")?.username == "team")
        #expect(try file.credentials(registry: "r.example", repository: "other/app")?.username == "all")
    }

    @Test func aDamagedEntryIsNamed() throws {
        let dir = TestDir(); defer { dir.remove() }
        try write(dir.path + "/auth.json", #"{"auths":{"r.example":{"auth":"!!!"}}}"#)
        let error = #expect(throws: ImageError.self) {
            try AuthFile(path: dir.path + "/auth.json", dockerConfig: nil).credentials(registry: "r.example")
        }
        #expect(error?.description.contains("cove login r.example") == true)
    }

    func write(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        _ = text.utf8CString.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    }

    func readAll(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }
}

@Suite struct RegistriesConfTests {
    @Test func insecureRegistriesAreReadFromPodmansFile() {
        let conf = RegistriesConf(parsing: """
            unqualified-search-registries = ["docker.io"]

            [[registry]]
            location = "build.example:5000"   # the team's registry
            insecure = true

            [[registry]]
            location = "quay.io"
            insecure = false

            [aliases]
            "x" = "docker.io/library/x"
            """)
        #expect(conf.insecure == ["build.example:5000"])
        #expect(conf.isInsecure("build.example:5000"))
        #expect(!conf.isInsecure("quay.io"))
        #expect(!conf.isInsecure("build.example"))
        #expect(RegistriesConf(parsing: "").insecure.isEmpty)
    }
}
