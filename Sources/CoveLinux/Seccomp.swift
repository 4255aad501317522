#if canImport(Glibc)
import Glibc
#endif
import CCoveShim
import CoveModel
import CSeccomp

/// A seccomp profile compiled to classic BPF by libseccomp, in the parent
/// before the fork into the container; init loads the bytes as its last
/// step before exec.
public struct SeccompFilter: Sendable {
    public let bpf: [UInt8]
    public let flags: UInt32
    /// Syscall names this kernel and architecture do not know: skipped, as crun does.
    public let skipped: [String]

    public init(bpf: [UInt8], flags: UInt32, skipped: [String]) {
        self.bpf = bpf; self.flags = flags; self.skipped = skipped
    }

    /// What the compiled bytes depend on besides the profile.
    public static var compilerIdentity: String {
        let v = seccomp_version()
        let version = v.map { "\($0.pointee.major).\($0.pointee.minor).\($0.pointee.micro)" } ?? "?"
        var u = utsname()
        uname(&u)
        let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        return "libseccomp \(version) \(machine) tree"
    }

    static let SECCOMP_FILTER_FLAG_TSYNC: UInt32 = 1
    static let SECCOMP_FILTER_FLAG_LOG: UInt32 = 2
    static let SECCOMP_FILTER_FLAG_SPEC_ALLOW: UInt32 = 4

    public struct CompileError: Error, CustomStringConvertible {
        public let description: String
    }

    static func action(_ name: String, errno: UInt32?, defaultErrno: UInt32?) throws -> UInt32 {
        switch name {
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | ((errno ?? defaultErrno ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | ((errno ?? defaultErrno ?? UInt32(EPERM)) & 0xffff)
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        default: throw CompileError(description: "seccomp action \(name) is not supported by cove-unshare")
        }
    }

    static func comparison(_ op: String) -> scmp_compare {
        switch op {
        case "SCMP_CMP_NE": return SCMP_CMP_NE
        case "SCMP_CMP_LT": return SCMP_CMP_LT
        case "SCMP_CMP_LE": return SCMP_CMP_LE
        case "SCMP_CMP_EQ": return SCMP_CMP_EQ
        case "SCMP_CMP_GE": return SCMP_CMP_GE
        case "SCMP_CMP_GT": return SCMP_CMP_GT
        default: return SCMP_CMP_MASKED_EQ
        }
    }

    public static func compile(_ p: SeccompProfile) throws -> SeccompFilter {
        let defaultAction = try action(p.defaultAction, errno: p.defaultErrnoRet, defaultErrno: nil)
        guard let ctx = seccomp_init(defaultAction) else {
            throw CompileError(description: "seccomp: libseccomp refused default action \(p.defaultAction)")
        }
        defer { seccomp_release(ctx) }
        // A binary tree of syscall numbers rather than a list: the kernel
        // emulates the filter for every syscall when it is loaded (to
        // cache the ones always allowed) and JIT-compiles it, and a list
        // of docker's 370 names made that 0.8 ms of every container's
        // start; in a tree each syscall takes a few comparisons, not
        // hundreds. libseccomp 2.5's level 2; older ones refuse it, and
        // the list stays.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        // A filter that does not match the caller's arch kills or fails
        // every syscall: libseccomp adds the native one itself.
        for arch in p.architectures {
            let name = arch.hasPrefix("SCMP_ARCH_") ? String(arch.dropFirst(10)).lowercased() : arch.lowercased()
            let token = seccomp_arch_resolve_name(name)
            if token == 0 { continue }   // unknown to this libseccomp: nothing to add
            let r = seccomp_arch_add(ctx, token)
            if r != 0 && r != -EEXIST {
                throw CompileError(description: "seccomp: add architecture \(arch): \(SyscallError("", errno: -r).reason)")
            }
        }
        var flags: UInt32 = 0
        for f in p.flags {
            switch f {
            case "SECCOMP_FILTER_FLAG_LOG": flags |= SECCOMP_FILTER_FLAG_LOG
            case "SECCOMP_FILTER_FLAG_SPEC_ALLOW": flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW
            case "SECCOMP_FILTER_FLAG_TSYNC": flags |= SECCOMP_FILTER_FLAG_TSYNC
            default: throw CompileError(description: "seccomp flag \(f) is not supported")
            }
        }
        var skipped: [String] = []
        for (i, rule) in p.syscalls.enumerated() {
            let act = try action(rule.action, errno: rule.errnoRet, defaultErrno: p.defaultErrnoRet)
            // A rule that repeats the default adds nothing (libseccomp refuses it).
            if act == defaultAction { continue }
            let args = rule.args.map { a in
                scmp_arg_cmp(arg: a.index, op: comparison(a.op), datum_a: a.value, datum_b: a.valueTwo)
            }
            for name in rule.names {
                let nr = seccomp_syscall_resolve_name(name)
                if nr == __NR_SCMP_ERROR {
                    skipped.append(name)
                    continue
                }
                let r = args.withUnsafeBufferPointer { b in
                    seccomp_rule_add_array(ctx, act, nr, UInt32(b.count), b.baseAddress)
                }
                if r != 0 {
                    throw CompileError(description:
                        "seccomp: linux.seccomp.syscalls[\(i)] (\(name)): \(SyscallError("", errno: -r).reason)")
                }
            }
        }
        let fd = cove_memfd("cove-seccomp")
        if fd < 0 { throw SyscallError("memfd_create") }
        defer { close(fd) }
        let r = seccomp_export_bpf(ctx, fd)
        if r != 0 { throw CompileError(description: "seccomp: export BPF: \(SyscallError("", errno: -r).reason)") }
        lseek(fd, 0, SEEK_SET)
        let bytes = try Files.readAll(fd: fd, limit: 1 << 22, what: "seccomp BPF")
        return SeccompFilter(bpf: bytes, flags: flags, skipped: skipped)
    }

    /// Installs the filter on this process (and so on what it execs).
    public func load() throws {
        let r = bpf.withUnsafeBytes { cove_seccomp_load($0.baseAddress, UInt(bpf.count), flags) }
        if r != 0 {
            throw SyscallError("load seccomp filter",
                               hint: errno == EACCES ? "it needs noNewPrivileges or CAP_SYS_ADMIN" : nil)
        }
    }
}
