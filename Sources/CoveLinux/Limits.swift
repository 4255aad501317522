#if canImport(Glibc)
import Glibc
#endif
import CCoveShim

public enum Limits {
    static let resources: [String: Int32] = [
        "RLIMIT_CPU": 0, "RLIMIT_FSIZE": 1, "RLIMIT_DATA": 2, "RLIMIT_STACK": 3, "RLIMIT_CORE": 4,
        "RLIMIT_RSS": 5, "RLIMIT_NPROC": 6, "RLIMIT_NOFILE": 7, "RLIMIT_MEMLOCK": 8, "RLIMIT_AS": 9,
        "RLIMIT_LOCKS": 10, "RLIMIT_SIGPENDING": 11, "RLIMIT_MSGQUEUE": 12, "RLIMIT_NICE": 13,
        "RLIMIT_RTPRIO": 14, "RLIMIT_RTTIME": 15,
    ]

    public static func isKnown(_ name: String) -> Bool { resources[name] != nil }

    public static func set(_ name: String, soft: UInt64, hard: UInt64) throws {
        guard let r = resources[name] else { throw SyscallError("set rlimit \(name)", errno: EINVAL) }
        var lim = rlimit(rlim_cur: rlim_t(soft), rlim_max: rlim_t(hard))
        if setrlimit(__rlimit_resource_t(UInt32(r)), &lim) != 0 {
            let e = errno
            throw SyscallError("set \(name) to soft \(soft) hard \(hard)", errno: e,
                               hint: e == EPERM ? "a hard limit cannot be raised without privileges" : nil)
        }
    }
}

public enum Clock {
    /// Now, as RFC 3339 in UTC with nanoseconds, as runc and crun write it.
    public static func rfc3339Now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return rfc3339(seconds: ts.tv_sec, nanoseconds: Int(ts.tv_nsec))
    }

    public static func rfc3339(seconds: Int, nanoseconds: Int) -> String {
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func pad(_ v: Int32, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        let ns = String(nanoseconds)
        return "\(pad(tmv.tm_year + 1900, 4))-\(pad(tmv.tm_mon + 1, 2))-\(pad(tmv.tm_mday, 2))T"
            + "\(pad(tmv.tm_hour, 2)):\(pad(tmv.tm_min, 2)):\(pad(tmv.tm_sec, 2))."
            + String(repeating: "0", count: 9 - ns.count) + ns + "Z"
    }

    public static func monotonicMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }
}

public enum FileLock {
    /// An exclusive lock on `path` (created if missing), released by closing
    /// the returned fd or by the process's exit. A POSIX lock, so children
    /// forked while it is held (a container's init) do not keep it.
    public static func acquire(_ path: String) throws -> Int32 { try lock(path, shared: false) }

    /// A shared lock on `path` (created if missing): any number of holders,
    /// but none while someone holds `acquire`'s exclusive lock.
    public static func acquireShared(_ path: String) throws -> Int32 { try lock(path, shared: true) }

    /// The exclusive lock if nobody holds the file now, else nil.
    public static func tryAcquire(_ path: String) throws -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("open lock \(path)") }
        if cove_try_lock_file(fd, 0) != 0 {
            let e = errno
            close(fd)
            if e == EAGAIN || e == EACCES { return nil }
            throw SyscallError("lock \(path)", errno: e)
        }
        return fd
    }

    /// An flock(2) on `path` (which must exist) if nobody holds one, else
    /// nil. Unlike the POSIX locks above it belongs to the open file, so a
    /// child forked with the fd keeps it (a removal handed to a child).
    public static func tryHold(_ path: String, directory: Bool = false) -> Int32? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (directory ? O_DIRECTORY : 0))
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func lock(_ path: String, shared: Bool) throws -> Int32 {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 { throw SyscallError("open lock \(path)") }
        if cove_lock_file(fd, shared ? 1 : 0) != 0 {
            let e = SyscallError("lock \(path)\(shared ? " shared" : "")")
            close(fd)
            throw e
        }
        return fd
    }
}
