#if canImport(Glibc)
import Glibc
#endif
import CoveArchives
import CoveEngine
import CoveImages
import CoveLinux
import CoveModel
import CoveRegistry

// cove-transfer moves images into and out of the store for the front. It is
// the one program of cove that links the HTTP stack (async-http-client,
// swift-nio, swift-crypto, Foundation) and libarchive, so that the front,
// which starts every container, stays a small static executable.
//
//   cove-transfer pull --root DIR [--platform OS/ARCH[/VARIANT]] [--tls-verify BOOL]
//                      [--progress terminal|plain|quiet] [--print-digest] REFERENCE
//   cove-transfer login [--tls-verify BOOL] REGISTRY   (user and password on stdin, a line each)
//   cove-transfer load --root DIR --input ARCHIVE
//   cove-transfer save --root DIR --output FILE [--format docker-archive|oci-archive] IMAGE...
//   cove-transfer import --root DIR [--change INSTRUCTION]... [--message TEXT] TARBALL|- [REFERENCE]
//
// Each takes --error-fd N. Success: exit 0, with the verb's output on
// stdout. A failure: one line, on stderr as "Error: …", or without the
// prefix on the fd --error-fd names (so the front can word it), and exit 125.

struct Usage: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

struct Arguments {
    static let verbs = ["pull", "login", "load", "save", "import"]
    var verb = ""
    var root: String?
    var platform: String?
    var tlsVerify = true
    var progress = "plain"
    var printDigest = false
    var errorFD: Int32?
    var input: String?
    var output: String?
    var format = "docker-archive"
    var changes: [String] = []
    var message: String?
    var operands: [String] = []

    static func parse(_ args: [String]) throws -> Arguments {
        var a = Arguments()
        guard let verb = args.first, verbs.contains(verb) else {
            throw Usage("usage: cove-transfer \(verbs.joined(separator: "|")) [options] OPERAND... (a helper of cove; see cove-transfer(1))")
        }
        a.verb = verb
        var i = 1
        func value(_ name: String) throws -> String {
            i += 1
            guard i < args.count else { throw Usage("\(name) needs a value") }
            return args[i]
        }
        var operandsOnly = false
        while i < args.count {
            let arg = args[i]
            if operandsOnly || !arg.hasPrefix("-") || arg == "-" {
                a.operands.append(arg)
                i += 1
                continue
            }
            switch arg {
            case "--": operandsOnly = true
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
            case "--input": a.input = try value(arg)
            case "--output": a.output = try value(arg)
            case "--format": a.format = try value(arg)
            case "--change": a.changes.append(try value(arg))
            case "--message": a.message = try value(arg)
            default: throw Usage("unknown option \"\(arg)\"")
            }
            i += 1
        }
        let counts: [String: ClosedRange<Int>] = ["pull": 1...1, "login": 1...1, "load": 0...0, "save": 1...Int.max,
                                                  "import": 1...2]
        guard counts[verb]!.contains(a.operands.count) else {
            throw Usage("cove-transfer \(verb): wrong number of operands (\(a.operands.count))")
        }
        if verb != "login" && a.root == nil { throw Usage("cove-transfer \(verb): --root is missing") }
        if verb == "load" && a.input == nil { throw Usage("cove-transfer load: --input is missing") }
        if verb == "save" && a.output == nil { throw Usage("cove-transfer save: --output is missing") }
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
    let store = try ContentStore(root: a.root!)
    var puller = Puller(store: store, platform: try a.platform.map { try Platform(parsing: $0) } ?? .host,
                        tlsVerify: a.tlsVerify)
    // Layers unpacked as they arrive, as podman pull does; without cove-fs
    // (a broken install) `cove create` says what is missing.
    if let paths = try? CovePaths.resolve(root: a.root) {
        puller.unpacker = try? LayerCache(paths: paths, store: store, helpers: .forThisProgram())
    }
    do {
        let result = try await puller.pull(a.operands[0]) { display.handle($0) }
        display.finish()
        if a.printDigest { print(result.record.manifest) }
    } catch {
        display.finish()
        throw error
    }
}

func load(_ a: Arguments) throws {
    for r in try ArchiveLoader(store: try ContentStore(root: a.root!)).load(archive: a.input!) {
        print(r.name.isEmpty ? "Loaded image ID: \(r.config)" : "Loaded image: \(r.name)")
    }
}

func save(_ a: Arguments) throws {
    guard let format = ArchiveWriter.Format(rawValue: a.format) else {
        throw Usage("unknown format \"\(a.format)\": use docker-archive or oci-archive")
    }
    let store = try ContentStore(root: a.root!)
    let index = ImageIndex(store: store)
    let records = try a.operands.map { text -> ImageRecord in
        guard let r = try index.find(text) else { throw ImageError("\(text): image not known; see `cove images`") }
        return r
    }
    try ArchiveWriter(store: store).save(records, format: format, to: a.output!)
}

func importTarball(_ a: Arguments) throws {
    let changes = try ImageChanges(parsing: a.changes)
    let record = try ImageImporter(store: try ContentStore(root: a.root!))
        .importTarball(a.operands[0], name: a.operands.count > 1 ? a.operands[1] : nil, changes: changes, message: a.message)
    print("sha256:" + record.config.hex)
}

/// Checks credentials against the registry; the front files them.
func login(_ a: Arguments) async throws {
    let lines = String(decoding: try Files.readAll(fd: 0, limit: 1 << 20, what: "the credentials on stdin"), as: UTF8.self)
        .split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
    guard lines.count == 2 else { throw Usage("cove-transfer login: give the user name and the password on stdin, a line each") }
    let credentials = Credentials(username: String(lines[0]), password: String(lines[1]))
    let client = RegistryClient(endpoint: RegistryEndpoint(registry: a.operands[0], tlsVerify: a.tlsVerify),
                                credentials: credentials)
    do {
        try await client.verifyLogin()
        await client.shutdown()
    } catch {
        await client.shutdown()
        throw error
    }
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
    case "login": try await login(arguments)
    case "load": try load(arguments)
    case "save": try save(arguments)
    default: try importTarball(arguments)
    }
} catch {
    fail("\(error)", errorFD: arguments.errorFD)
}
exit(0)
