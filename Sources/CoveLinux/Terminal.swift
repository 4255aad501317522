#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

/// Pseudo-terminals for a container's process: made from the container's
/// own devpts (after pivot_root or setns into its mount namespace), the
/// slave becomes the process's controlling terminal and stdio, and the
/// master goes to whoever asked (a console socket, or cove-unshare itself).
public enum Terminal {
    public static func openPair() throws -> (master: Int32, slave: String) {
        var name = [CChar](repeating: 0, count: 256)
        let m = cove_open_pty(&name, UInt(name.count))
        if m < 0 { throw SyscallError("open a pseudo-terminal from /dev/ptmx") }
        return (m, String(decoding: name.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// In the process that will exec: new session, the slave as its
    /// controlling terminal and as fds 0, 1 and 2.
    public static func attach(slave: String, size: (rows: UInt32, cols: UInt32)?) throws {
        if setsid() < 0 { throw SyscallError("setsid") }
        let fd = open(slave, O_RDWR)
        if fd < 0 { throw SyscallError("open terminal \(slave)") }
        try check("make \(slave) the controlling terminal", cove_set_controlling_tty(fd))
        if let size, size.rows > 0 || size.cols > 0 {
            _ = cove_set_winsize(fd, UInt16(clamping: size.rows), UInt16(clamping: size.cols))
        }
        for target in Int32(0)...2 where fd != target {
            if dup2(fd, target) < 0 { throw SyscallError("dup terminal onto fd \(target)") }
        }
        if fd > 2 { close(fd) }
    }

    public static func size(of fd: Int32) -> (rows: UInt16, cols: UInt16)? {
        var r: UInt16 = 0, c: UInt16 = 0
        return cove_get_winsize(fd, &r, &c) == 0 ? (r, c) : nil
    }

    public static func resize(_ fd: Int32, rows: UInt16, cols: UInt16) { _ = cove_set_winsize(fd, rows, cols) }

    /// Sends the master to a console socket (runtime-spec: SCM_RIGHTS over
    /// the socket given by --console-socket).
    public static func send(master: Int32, over socket: Int32) throws {
        // One byte of payload carries the fd, as runc and crun send it.
        let byte: [UInt8] = [0]
        if byte.withUnsafeBytes({ cove_send_packet(socket, $0.baseAddress, 1, master) }) < 0 {
            throw SyscallError("send the terminal to the console socket")
        }
    }

    public static func connectConsoleSocket(_ path: String) throws -> Int32 {
        let fd = cove_connect_unix(path)
        if fd < 0 { throw SyscallError("connect to console socket \(path)") }
        return fd
    }

    /// Raw mode for a relaying terminal; the returned closure restores it.
    public static func makeRaw(_ fd: Int32) -> (() -> Void)? {
        var saved = [UInt8](repeating: 0, count: Int(cove_termios_size()))
        guard cove_make_raw(fd, &saved) == 0 else { return nil }
        return { _ = cove_restore_termios(fd, saved) }
    }
}
