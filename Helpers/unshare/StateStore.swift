#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Containers' state under the runtime root: `<root>/<id>/state.json`, the
/// exec fifo that holds a created container before `start`, and a lock file
/// that serialises commands on one container.
struct StateStore {
    let root: String

    /// `--root`, else `$XDG_RUNTIME_DIR/cove/runtime`, else a private
    /// directory under /tmp that must be ours and 0700.
    static func defaultRoot() throws -> String {
        if let x = Environment.get("XDG_RUNTIME_DIR"), !x.isEmpty, Files.isDirectory(x) {
            return x + "/cove/runtime"
        }
        if geteuid() == 0 && !Namespaces.inChildUserNamespace() { return "/run/cove/runtime" }
        let base = "/tmp/cove-\(geteuid())"
        guard Files.ensurePrivateDirectory(base) else {
            throw RuntimeError("\(base) is not a private directory of uid \(geteuid()); remove it or set XDG_RUNTIME_DIR")
        }
        return base + "/runtime"
    }

    init(root: String?) throws {
        self.root = try root.map { Files.absolute($0) } ?? StateStore.defaultRoot()
    }

    func directory(_ id: String) -> String { "\(root)/\(id)" }
    func fifoPath(_ id: String) -> String { "\(root)/\(id)/exec.fifo" }

    static func validate(id: String) throws {
        let ok = !id.isEmpty && id.utf8.count <= 1024 && id != "." && id != ".."
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                    || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") || c == UInt8(ascii: ".")
            }
        guard ok else { throw RuntimeError("invalid container id \"\(id)\": use letters, digits, '-', '_' and '.'") }
    }

    /// Makes the container's directory; fails if the id is taken.
    func reserve(_ id: String) throws {
        try StateStore.validate(id: id)
        try Files.makeDirectories(root, mode: 0o700)
        if mkdir(directory(id), 0o700) != 0 {
            if errno == EEXIST { throw RuntimeError("container \(id) already exists") }
            throw SyscallError("create \(directory(id))")
        }
    }

    /// Holds the container's lock for the duration of `body`.
    func locked<T>(_ id: String, _ body: () throws -> T) throws -> T {
        let fd = try FileLock.acquire(directory(id) + "/lock")
        defer { close(fd) }
        return try body()
    }

    func exists(_ id: String) -> Bool { Files.exists(directory(id) + "/state.json") }

    func save(_ state: ContainerState) throws {
        try Files.writeAtomically(directory(state.id) + "/state.json",
                                  state.storedJSON.serializedBytes(pretty: true), mode: 0o600, durable: false)
    }

    /// Reads a container's state with its status brought up to date from
    /// the process table: an init that is gone (or a zombie) is stopped; a
    /// live one still waiting on its exec fifo is created.
    func load(_ id: String) throws -> ContainerState {
        try StateStore.validate(id: id)
        let path = directory(id) + "/state.json"
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch let e as SyscallError where e.errno == ENOENT {
            throw RuntimeError("container \(id) does not exist", errno: ENOENT)
        }
        var state = try ContainerState(stored: try JSON.parse(bytes))
        switch state.status {
        case .creating:
            break
        case .created, .running:
            if !Processes.isAlive(state.pid, startTime: state.pidStartTime) {
                state.status = .stopped
            } else {
                state.status = Files.exists(fifoPath(id)) ? .created : .running
            }
        case .stopped:
            break
        }
        return state
    }

    func remove(_ id: String) throws { try Files.removeTree(directory(id)) }

    func ids() -> [String] {
        ((try? Files.listDirectory(root)) ?? []).filter { Files.exists(directory($0) + "/state.json") }
    }
}

/// A failure of cove-unshare itself, with errno where one applies.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    let errno: Int32
    /// Set when the container's program could not be found (127) or run
    /// (126): `run` and `exec` exit with it, as a shell does.
    var exitCode: Int32?
    init(_ description: String, errno: Int32 = 0, exitCode: Int32? = nil) {
        self.description = description; self.errno = errno; self.exitCode = exitCode
    }

    /// What a stage reported over the sync channel.
    init?(reported m: SyncMessage) {
        switch m {
        case let .failure(e, message): self.init(message, errno: e)
        case let .execFailure(e, message): self.init(message, errno: e, exitCode: e == ENOENT ? 127 : 126)
        default: return nil
        }
    }
}
