/// linux.seccomp of a runtime config (config-linux.md "Seccomp").
public struct SeccompProfile: Sendable, Equatable {
    public struct Arg: Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64
        public var op: String
    }
    public struct Rule: Sendable, Equatable {
        public var names: [String]
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Arg]
    }
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]
    public var flags: [String]
    public var listenerPath: String?
    public var syscalls: [Rule]

    public static let operators: Set<String> = [
        "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
    ]
    public static let actions: Set<String> = [
        "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
    ]

    public init(json: JSON) throws {
        let f = try Fields(json, "linux.seccomp")
        guard let d = try f.string("defaultAction") else { throw SpecError("linux.seccomp.defaultAction", "missing") }
        guard SeccompProfile.actions.contains(d) else { throw SpecError("linux.seccomp.defaultAction", "unknown action \(d)") }
        defaultAction = d
        defaultErrnoRet = try f.uint32("defaultErrnoRet")
        architectures = try f.strings("architectures") ?? []
        flags = try f.strings("flags") ?? []
        listenerPath = try f.string("listenerPath")
        syscalls = try (f.objects("syscalls") ?? []).map { r in
            guard let action = try r.string("action") else { throw SpecError(r.name("action"), "missing") }
            guard SeccompProfile.actions.contains(action) else { throw SpecError(r.name("action"), "unknown action \(action)") }
            let args = try (r.objects("args") ?? []).map { a in
                guard let op = try a.string("op"), SeccompProfile.operators.contains(op) else {
                    throw SpecError(a.name("op"), "missing or unknown comparison")
                }
                guard let index = try a.uint32("index"), index < 6 else { throw SpecError(a.name("index"), "must be 0 to 5") }
                return Arg(index: index, value: try a.uint64("value") ?? 0, valueTwo: try a.uint64("valueTwo") ?? 0, op: op)
            }
            return Rule(names: try r.strings("names") ?? [], action: action, errnoRet: try r.uint32("errnoRet"), args: args)
        }
    }
}
