#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Everything the three stages of a launch share; computed by the parent
/// before the first fork, so the children only act on it.
struct LaunchContext {
    enum Mode: Equatable { case create, run(detach: Bool) }

    let id: String
    let bundle: String
    let rootfs: String
    let spec: RuntimeSpec
    let process: RuntimeSpec.Process
    let linux: RuntimeSpec.Linux
    let mode: Mode
    let fifoPath: String?
    let preserveFDs: Int32
    /// The config asks for a new user namespace (no path): the parent writes its maps.
    let newUserNamespace: Bool
    /// linux.seccomp compiled before the first fork; init only loads it.
    let seccomp: SeccompFilter?
    /// Connected --console-socket for the terminal master, or -1. Without
    /// one a terminal is relayed by the foreground `run`.
    let consoleSocket: Int32
    /// The front's network helper (io.cove.network.* annotations): init
    /// hands it the tap on `networkChannel`, started before the first fork.
    let network: NetworkHandoff?
    var networkChannel: SyncChannel?
    /// tap0, made by the early child while its maps were written (with
    /// ContainerTap's defaults, see NetworkHandoff.handOver); -1 if not.
    var earlyTap: Int32 = -1

    /// Namespaces to create with unshare(2) in the setup stage (not user).
    var unshareFlags: Int32 {
        linux.namespaces.filter { $0.path == nil && $0.type != .user }.reduce(Int32(0)) { $0 | $1.type.cloneFlag }
    }

    func has(_ kind: NamespaceKind) -> Bool { linux.namespace(kind) != nil }

    /// With no namespace to join by path, one clone(2) makes them all and
    /// its child is init: no middle stage, one fork less. (A time namespace
    /// can only be made by unshare, whose flag clone reads as a signal.)
    var cloneAllAtOnce: Bool {
        linux.namespaces.allSatisfy { $0.path == nil } && !has(.time)
    }

    /// With cloneAllAtOnce and a new user namespace: the namespaces init
    /// makes itself, by unshare, while the parent writes its id maps (it
    /// has every capability in its new user namespace, mapped or not). A
    /// network namespace costs half a millisecond to make, which then
    /// leaves the parent's clone for a wait that comes anyway.
    var unshareInInit: Int32 {
        guard cloneAllAtOnce && newUserNamespace else { return 0 }
        return unshareFlags & Self.madeDuringMaps
    }

    /// The namespaces a child makes itself while the parent writes its id
    /// maps: the costly ones. Here by unshareInInit; with --early-fd by the
    /// early child (init, born in its PID namespace), before the config is
    /// read (so a config for it must want both).
    static let madeDuringMaps = NamespaceKind.network.cloneFlag | NamespaceKind.ipc.cloneFlag


}

extension RuntimeSpec.Process {
    /// The PATH a program name is looked up on: the process's own, else the usual.
    var searchPath: String {
        for e in env where e.hasPrefix("PATH=") { return String(e.dropFirst(5)) }
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    }
}

extension RuntimeSpec.Process {
    /// A terminal relayed by cove-unshare starts at the size of the one it
    /// runs in, set before the process runs rather than raced after.
    mutating func relayedTerminalSize(consoleSocket: String?) {
        guard terminal, consoleSocket == nil, consoleSize == nil, isatty(0) == 1,
              let s = Terminal.size(of: 0) else { return }
        consoleSize = (UInt32(s.rows), UInt32(s.cols))
    }
}
