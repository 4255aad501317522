import Foundation
import Testing

/// Drives the built binaries from outside, as the unprivileged user that
/// `make test` drops to. Binaries come from COVE_BIN_DIR, else this
/// package's .build/debug.
enum Harness {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let binDir: String = {
        if let d = ProcessInfo.processInfo.environment["COVE_BIN_DIR"], !d.isEmpty { return d }
        return packageRoot + "/.build/debug"
    }()

    static func binary(_ name: String) -> String { binDir + "/" + name }

    static var isUnprivileged: Bool { getuid() != 0 }
    static let unprivilegedNote: Comment =
        "integration tests must run as an unprivileged user: run `make test`, which drops to one"

    static let userName: String = {
        guard let pw = getpwuid(getuid()) else { return ProcessInfo.processInfo.environment["USER"] ?? "" }
        return String(cString: pw.pointee.pw_name)
    }()

    /// The first /etc/subuid (or subgid) range of this user.
    static func subordinateRange(_ file: String) -> (start: UInt32, count: UInt32)? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":")
            if f.count == 3, f[0] == userName || f[0] == String(getuid()),
               let s = UInt32(f[1]), let c = UInt32(f[2]) { return (s, c) }
        }
        return nil
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct Timeout: Error, CustomStringConvertible {
        let command: String
        var description: String { "timed out: \(command)" }
    }

    /// Runs a program to its end, with output in files (a container left
    /// behind may keep a pipe open) and a bound on its time. posix_spawn and
    /// waitpid, not Foundation's Process: that one waits for every holder
    /// of an inherited fd, conmon's included, before it calls a child ended.
    @discardableResult
    static func run(_ exe: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:],
                    timeout: Double = 60) throws -> Output {
        let dir = try temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pid = try spawn(exe, args, cwd: cwd, env: env, stdout: dir + "/o", stderr: dir + "/e")
        let status = try finish(pid, timeout: timeout, command: ([exe] + args).joined(separator: " "))
        return Output(status: status,
                      stdout: (try? String(contentsOfFile: dir + "/o", encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: dir + "/e", encoding: .utf8)) ?? "")
    }

    /// Starts a program in its own process group with stdin from /dev/null.
    static func spawn(_ exe: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:],
                      stdout: String = "/dev/null", stderr: String = "/dev/null") throws -> pid_t {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        var fa = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fa)
        defer { posix_spawn_file_actions_destroy(&fa) }
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fa, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&fa, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        // Swift's Glibc lacks posix_spawn_file_actions_addchdir_np: a shell
        // changes directory and execs.
        let full = cwd.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0, exe] + args } ?? [exe] + args
        let argv: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv { free(p) }; for p in envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, full[0], &fa, &attr, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO) }
        return pid
    }

    /// Waits, bounded, for a spawned process; on timeout kills its group.
    static func finish(_ pid: pid_t, timeout: Double, command: String = "") throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
            if Date() > deadline {
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw Timeout(command: command)
            }
            usleep(2_000)
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    static func temporaryDirectory(_ tag: String) throws -> String {
        let tmp = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((tmp + "/cove-it-\(tag)-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw POSIXError(.EIO) }
        return String(cString: p)
    }

    /// Copies with close-on-exec fds: tests run in parallel, and a write fd
    /// inherited by a process spawned meanwhile makes exec of the copy fail
    /// with ETXTBSY for as long as that process lives.
    static func copyExecutable(_ from: String, to: String) throws {
        let src = open(from, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(src) }
        let dst = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        guard dst >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(dst) }
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(src, &buf, buf.count)
            if n < 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            if n == 0 { break }
            guard write(dst, buf, n) == n else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }

    struct SetupFailure: Error, CustomStringConvertible { let description: String }

    /// The busybox rootfs as a podman image `name`, by `podman import` with
    /// PATH set (import leaves it unset); never pulled.
    static func importBusyboxImage(_ name: String) throws {
        let dir = try temporaryDirectory("image")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try makeRootfs(at: dir + "/rootfs")
        let tar = try run("/bin/tar", ["--owner=0", "--group=0", "-C", dir + "/rootfs", "-cf", dir + "/rootfs.tar", "."])
        guard tar.status == 0 else { throw SetupFailure(description: "tar: \(tar.stderr)") }
        let imp = try run("/usr/bin/podman", ["import", "--change", "ENV=PATH=/bin", dir + "/rootfs.tar", name],
                          timeout: 180)
        guard imp.status == 0 else { throw SetupFailure(description: "podman import: \(imp.stderr)") }
    }

    /// A busybox root filesystem made from Debian's busybox-static.
    static func makeRootfs(at dir: String) throws {
        let fm = FileManager.default
        for d in ["bin", "etc", "tmp", "proc", "sys", "dev", "root"] {
            try fm.createDirectory(atPath: dir + "/" + d, withIntermediateDirectories: true)
        }
        try copyExecutable("/bin/busybox", to: dir + "/bin/busybox")
        let list = try run("/bin/busybox", ["--list"]).stdout.split(separator: "\n")
        for applet in list where applet != "busybox" {
            try? fm.createSymbolicLink(atPath: dir + "/bin/" + applet, withDestinationPath: "busybox")
        }
        try "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n"
            .write(toFile: dir + "/etc/passwd", atomically: true, encoding: .utf8)
        try "root:x:0:\nnogroup:x:65534:\n".write(toFile: dir + "/etc/group", atomically: true, encoding: .utf8)
    }
}

/// A bundle (config.json + rootfs) in a temporary directory, removed at the
/// end; the config starts from `cove-unshare spec --rootless`.
final class Bundle {
    let dir: String
    let stateRoot: String
    var config: [String: Any]

    init(_ tag: String = "bundle") throws {
        dir = try Harness.temporaryDirectory(tag)
        stateRoot = dir + "/state"
        try Harness.makeRootfs(at: dir + "/rootfs")
        let r = try Harness.run(Harness.binary("cove-unshare"), ["spec", "--rootless"], cwd: dir)
        guard r.status == 0 else { throw POSIXError(.EINVAL) }
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/config.json"))
        config = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    deinit {
        // Ids were mapped to subordinate uids: chmod what we can, then remove.
        _ = try? Harness.run("/bin/chmod", ["-R", "u+rwX", dir], timeout: 20)
        try? FileManager.default.removeItem(atPath: dir)
    }

    var process: [String: Any] {
        get { config["process"] as? [String: Any] ?? [:] }
        set { config["process"] = newValue }
    }
    var linux: [String: Any] {
        get { config["linux"] as? [String: Any] ?? [:] }
        set { config["linux"] = newValue }
    }
    var mounts: [[String: Any]] {
        get { config["mounts"] as? [[String: Any]] ?? [] }
        set { config["mounts"] = newValue }
    }

    func setArgs(_ args: [String]) { process["args"] = args }

    /// Writes config.json and runs `cove-unshare ARGS` with this bundle's state root.
    @discardableResult
    func runtime(_ args: [String], timeout: Double = 60) throws -> Harness.Output {
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: dir + "/config.json"), options: .atomic)
        return try Harness.run(Harness.binary("cove-unshare"), ["--root", stateRoot] + args, cwd: dir,
                               timeout: timeout)
    }

    /// `run` of a shell script in the container.
    func sh(_ script: String, id: String = "t") throws -> Harness.Output {
        setArgs(["sh", "-c", script])
        return try runtime(["run", "--bundle", dir, id])
    }

    /// Starts `cove-unshare ARGS` without waiting; its output goes to
    /// `background.out` and `background.err` in the bundle.
    func startInBackground(_ args: [String]) throws -> pid_t {
        let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: dir + "/config.json"), options: .atomic)
        return try Harness.spawn(Harness.binary("cove-unshare"), ["--root", stateRoot] + args, cwd: dir,
                                 stdout: dir + "/background.out", stderr: dir + "/background.err")
    }

    var backgroundOutput: String {
        ((try? String(contentsOfFile: dir + "/background.out", encoding: .utf8)) ?? "")
            + ((try? String(contentsOfFile: dir + "/background.err", encoding: .utf8)) ?? "")
    }

    /// Polls `state` until it reports `status`, for at most ten seconds.
    func waitForStatus(_ id: String, _ status: String) throws {
        for _ in 0..<1000 {
            if try state(id)?["status"] as? String == status { return }
            usleep(10_000)
        }
        throw Harness.Timeout(command: "wait for \(id) to be \(status) (its output: \(backgroundOutput))")
    }

    func state(_ id: String) throws -> [String: Any]? {
        let r = try runtime(["state", id])
        guard r.status == 0, let d = r.stdout.data(using: .utf8) else { return nil }
        return try JSONSerialization.jsonObject(with: d) as? [String: Any]
    }
}
