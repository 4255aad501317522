#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveLinux
import CoveModel
import CoveRegistry

// cove-registry: the front's way to a registry. It is the only program of
// cove that links the HTTP stack (async-http-client, swift-nio), so the
// front, which starts every container, does not load it.
//
//   cove-registry pull --root DIR [--platform OS/ARCH[/VARIANT]] [--tls-verify BOOL]
//                      [--progress terminal|plain|quiet] [--print-digest] [--error-fd N] REFERENCE
//   cove-registry login [--tls-verify BOOL] [--error-fd N] REGISTRY   (user and password on stdin, a line each)
//
// Success: exit 0 (pull --print-digest prints the manifest digest). A
// failure: one line, on stderr as "Error: …", or without the prefix on the
// fd --error-fd names (so the front can word it), and exit 125.

struct Usage: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct Arguments {
    var verb = ""
    var root: String?
    var platform: String?
    var tlsVerify = true
    var progress = "plain"
    var printDigest = false
    var errorFD: Int32?
    var operand: String?

    static func parse(_ args: [String]) throws -> Arguments {
        var a = Arguments()
        guard let verb = args.first, ["pull", "login"].contains(verb) else {
            throw Usage("usage: cove-registry pull|login [options] OPERAND (a helper of cove; see cove-registry(1))")
        }
        a.verb = verb
        var i = 1
        func value(_ name: String) throws -> String {
            i += 1
            guard i < args.count else { throw Usage("\(name) needs a value") }
            return args[i]
        }
        while i < args.count {
            let arg = args[i]
            switch arg {
            case "--root": a.root = try value(arg)
            case "--platform": a.platform = try value(arg)
            case "--tls-verify":
                let v = try value(arg)
                guard let b = Bool(v) else { throw Usage("--tls-verify takes true or false, not \"\(v)\"") }
                a.tlsVerify = b
            case "--progress":
                a.progress = try value(arg)
                guard ["terminal", "plain", "quiet"].contains(a.progress) else {
                    throw Usage("--progress takes terminal, plain or quiet, not \"\(a.progress)\"")
                }
            case "--print-digest": a.printDigest = true
            case "--error-fd":
                let v = try value(arg)
                guard let fd = Int32(v), fd > 2 else { throw Usage("--error-fd takes a descriptor above 2, not \"\(v)\"") }
                a.errorFD = fd
            default:
                guard !arg.hasPrefix("-"), a.operand == nil else { throw Usage("unexpected \"\(arg)\"") }
                a.operand = arg
            }
            i += 1
        }
        guard a.operand != nil else { throw Usage("cove-registry \(verb): the \(verb == "pull" ? "image" : "registry") is missing") }
        if verb == "pull" && a.root == nil { throw Usage("cove-registry pull: --root is missing") }
        return a
    }
}

func fail(_ message: String, errorFD: Int32?) -> Never {
    if let fd = errorFD {
        let bytes = Array(message.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    } else {
        writeStandardError("Error: \(message)\n")
    }
    exit(125)
}

func pull(_ a: Arguments) async throws {
    let mode: PullProgress.Mode = a.progress == "terminal" ? .terminal : a.progress == "quiet" ? .quiet : .plain
    let display = PullProgress(mode: mode)
    let puller = Puller(store: try ContentStore(root: a.root!),
                        platform: try a.platform.map { try Platform(parsing: $0) } ?? .host,
                        tlsVerify: a.tlsVerify)
    do {
        let result = try await puller.pull(a.operand!) { display.handle($0) }
        display.finish()
        if a.printDigest { print(result.record.manifest) }
    } catch {
        display.finish()
        throw error
    }
}

/// Checks credentials against the registry; the front files them.
func login(_ a: Arguments) async throws {
    let lines = String(decoding: readAll(0, limit: 1 << 20), as: UTF8.self)
        .split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard lines.count == 2 else { throw Usage("cove-registry login: give the user name and the password on stdin, a line each") }
    let credentials = Credentials(username: String(lines[0]), password: String(lines[1]))
    let client = RegistryClient(endpoint: RegistryEndpoint(registry: a.operand!, tlsVerify: a.tlsVerify),
                                credentials: credentials)
    do {
        try await client.verifyLogin()
        await client.shutdown()
    } catch {
        await client.shutdown()
        throw error
    }
}

func readAll(_ fd: Int32, limit: Int) -> [UInt8] {
    var bytes: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while bytes.count < limit {
        let n = read(fd, &buf, buf.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes += buf[0..<n]
    }
    return bytes
}

func writeStandardError(_ text: String) {
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

// A pull ends with the cove that started it (a ^C, a kill -9): what it
// fetched so far stays in the store's partial files for the next pull.
let parent = getppid()
Processes.dieWithParent()
if getppid() != parent { exit(125) }

let arguments: Arguments
do { arguments = try Arguments.parse(Array(CommandLine.arguments.dropFirst())) } catch {
    fail("\(error)", errorFD: nil)
}
// Ours only: not for cove-fs or anything else a pull starts.
if let fd = arguments.errorFD { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
do {
    switch arguments.verb {
    case "pull": try await pull(arguments)
    default: try await login(arguments)
    }
} catch {
    fail("\(error)", errorFD: arguments.errorFD)
}
exit(0)
