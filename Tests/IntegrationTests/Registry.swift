import Foundation
import Testing

/// A real registry for tests: Debian's `docker-registry` on 127.0.0.1 at a
/// free port, its storage in a temporary directory, optionally behind
/// htpasswd Basic auth; stopped (bounded) when the object goes. Images are
/// made with Fixtures/oci-image.py and pushed with skopeo.
final class TestRegistry {
    let dir: String
    let port: Int
    private var pid: pid_t
    var address: String { "127.0.0.1:\(port)" }
    var storage: String { dir + "/storage" }

    struct Failure: Error, CustomStringConvertible { let description: String }

    static var available: Bool {
        ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/python3"].allSatisfy {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    /// With `basicAuth`, every request needs that user and password.
    init(basicAuth: (user: String, password: String)? = nil) throws {
        dir = try Harness.temporaryDirectory("registry")
        var auth = ""
        if let basicAuth {
            let hash = try Harness.run("/usr/bin/python3", ["-W", "ignore", "-c",
                "import crypt, sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
                basicAuth.password])
            guard hash.status == 0 else { throw Failure(description: "bcrypt for htpasswd: \(hash.stderr)") }
            let line = basicAuth.user + ":" + hash.stdout.trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
            try line.write(toFile: dir + "/htpasswd", atomically: true, encoding: .utf8)
            auth = "auth:\n  htpasswd:\n    realm: cove-test\n    path: \(dir)/htpasswd\n"
        }
        // A port that was free a moment ago; a lost race is retried.
        var lastError = ""
        for _ in 0..<5 {
            let port = try Self.freePort()
            let config = """
                version: 0.1
                log:
                  level: error
                  accesslog:
                    disabled: false
                storage:
                  filesystem:
                    rootdirectory: \(dir)/storage
                  delete:
                    enabled: true
                http:
                  addr: 127.0.0.1:\(port)
                \(auth)
                """
            try config.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
            let pid = try Harness.spawn("/usr/bin/docker-registry", ["serve", dir + "/config.yml"],
                                        stdout: dir + "/registry.out", stderr: dir + "/registry.err")
            if Self.waitForListener(port: port, pid: pid) {
                self.port = port
                self.pid = pid
                return
            }
            kill(pid, SIGKILL)
            var st: Int32 = 0
            waitpid(pid, &st, 0)
            lastError = (try? String(contentsOfFile: dir + "/registry.err", encoding: .utf8)) ?? ""
        }
        throw Failure(description: "docker-registry did not start: \(lastError)")
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGTERM)
        _ = try? Harness.finish(pid, timeout: 10, command: "docker-registry")
        pid = 0
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw Failure(description: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Polls for a listener, 20 ms apart, at most 15 s; false if the
    /// process ended first.
    static func waitForListener(port: Int, pid: pid_t) -> Bool {
        for _ in 0..<750 {
            var st: Int32 = 0
            if waitpid(pid, &st, WNOHANG) == pid { return false }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = UInt16(port).bigEndian
            let r = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if r == 0 { return true }
            usleep(20_000)
        }
        return false
    }

    /// An image layout from a description (see Fixtures/oci-image.py);
    /// returns the script's JSON summary.
    static func buildImage(_ description: [String: Any], at layout: String, tag: String = "latest") throws -> [String: Any] {
        let descFile = layout + ".json"
        try JSONSerialization.data(withJSONObject: description).write(to: URL(fileURLWithPath: descFile))
        let r = try Harness.run("/usr/bin/python3", [Harness.packageRoot + "/Tests/IntegrationTests/Fixtures/oci-image.py",
                                                     descFile, layout, "--tag", tag], timeout: 300)
        guard r.status == 0 else { throw Failure(description: "oci-image.py: \(r.stderr)") }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    }

    /// `skopeo copy` of a layout into this registry as `name:tag`.
    func push(layout: String, tag: String = "latest", as name: String, all: Bool = false,
              credentials: (String, String)? = nil) throws {
        // --preserve-digests: skopeo would otherwise compress a plain tar layer.
        var args = ["--insecure-policy", "copy", "--preserve-digests", "--dest-tls-verify=false", "-q"]
        if all { args.append("--all") }
        if let (u, p) = credentials { args += ["--dest-creds", "\(u):\(p)"] }
        args += ["oci:\(layout):\(tag)", "docker://\(address)/\(name)"]
        let r = try Harness.run("/usr/bin/skopeo", args, timeout: 300)
        guard r.status == 0 else { throw Failure(description: "skopeo copy to \(address)/\(name): \(r.stderr)") }
    }

    /// The registry's access log (combined format, on its stdout):
    /// `"GET /v2/… HTTP/1.1" 206 BYTES …`.
    var accessLog: [String] {
        ((try? String(contentsOfFile: dir + "/registry.out", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// The file in the registry's storage that holds a blob.
    func blobFile(_ digest: String) -> String {
        let hex = digest.replacingOccurrences(of: "sha256:", with: "")
        return storage + "/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
    }
}
