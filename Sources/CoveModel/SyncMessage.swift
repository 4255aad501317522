/// Messages between cove-unshare's stages on their SOCK_SEQPACKET socket.
/// One message per packet; fields separated by the ASCII unit separator.
/// Errors cross as (errno, text), never as a bare exit status.
public enum SyncMessage: Equatable, Sendable {
    /// The setup child made its user namespace and waits for its id maps.
    case userNamespaceReady
    /// The parent wrote the maps.
    case mapsWritten
    /// The container's init, as the parent's PID namespace numbers it.
    case initPid(Int32)
    /// Init finished setup: it now waits for `start`, or execs at once.
    case ready
    /// A terminal master travels with this message (SCM_RIGHTS).
    case terminal
    /// Init built its mounts and waits, before pivot_root, for the
    /// createRuntime hooks; `.hooksDone` lets it go on.
    case awaitingHooks
    /// Carries the state document the container-side hooks get.
    case hooksDone(state: String)
    /// Init is in its namespaces and asks the parent to mount its
    /// fuse-overlayfs root (the server runs outside the PID namespace).
    case mountRoot
    /// The parent has the fuse-overlayfs root mounted.
    case rootMounted
    case failure(errno: Int32, message: String)
    /// The fd that comes with this message is the named one (the tap
    /// handoff from the container's init to cove-net).
    case handoff(String)
    /// The network helper's arguments, a JSON array.
    case networkArguments(String)
    /// --early-fd: the caller finished the bundle; the early child reads it.
    case bundleReady
    /// --early-fd: the container's exit code, what cove-unshare will exit
    /// with, sent to the caller once its state is gone and before its own
    /// exit (the caller need not wait for that).
    case exitCode(Int32)
    /// The program itself could not be found or run: 127 or 126 to the caller.
    case execFailure(errno: Int32, message: String)

    private static let sep: UInt8 = 0x1F

    public func encoded() -> [UInt8] {
        func join(_ parts: [String]) -> [UInt8] {
            var out: [UInt8] = []
            for (i, p) in parts.enumerated() {
                if i > 0 { out.append(SyncMessage.sep) }
                out += Array(p.utf8)
            }
            return out
        }
        switch self {
        case .userNamespaceReady: return join(["userns"])
        case .mapsWritten: return join(["maps"])
        case let .initPid(p): return join(["pid", String(p)])
        case .ready: return join(["ready"])
        case .terminal: return join(["tty"])
        case .awaitingHooks: return join(["hooks?"])
        case let .hooksDone(state): return join(["hooks!", state])
        case .mountRoot: return join(["root?"])
        case .rootMounted: return join(["root!"])
        case let .failure(e, m): return join(["fail", String(e), m])
        case let .execFailure(e, m): return join(["execfail", String(e), m])
        case let .handoff(name): return join(["fd", name])
        case let .networkArguments(json): return join(["netargs", json])
        case .bundleReady: return join(["bundle!"])
        case let .exitCode(c): return join(["exit", String(c)])
        }
    }

    public init?(decoding bytes: [UInt8]) {
        let parts = bytes.split(separator: SyncMessage.sep, maxSplits: 2, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        switch parts.first {
        case "userns": self = .userNamespaceReady
        case "maps": self = .mapsWritten
        case "pid": guard parts.count == 2, let p = Int32(parts[1]) else { return nil }; self = .initPid(p)
        case "ready": self = .ready
        case "tty": self = .terminal
        case "hooks?": self = .awaitingHooks
        case "root?": self = .mountRoot
        case "root!": self = .rootMounted
        case "hooks!": guard parts.count >= 2 else { return nil }; self = .hooksDone(state: Self.rest(parts))
        case "fail":
            guard parts.count == 3, let e = Int32(parts[1]) else { return nil }
            self = .failure(errno: e, message: parts[2])
        case "execfail":
            guard parts.count == 3, let e = Int32(parts[1]) else { return nil }
            self = .execFailure(errno: e, message: parts[2])
        case "fd": guard parts.count == 2 else { return nil }; self = .handoff(parts[1])
        case "bundle!": self = .bundleReady
        case "exit": guard parts.count == 2, let c = Int32(parts[1]) else { return nil }; self = .exitCode(c)
        case "netargs": guard parts.count >= 2 else { return nil }; self = .networkArguments(Self.rest(parts))
        default: return nil
        }
    }

    /// The fields after the first, as sent (at most two: split twice).
    private static func rest(_ parts: [String]) -> String {
        parts.count > 2 ? parts[1] + "\u{1F}" + parts[2] : parts[1]
    }
}
