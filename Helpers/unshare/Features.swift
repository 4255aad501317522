import CoveLinux
import CoveModel

/// `cove-unshare features` (runtime-spec features.md): what this build
/// really does, so callers can check before they rely on it.
enum Features {
    static var json: JSON {
        let mountOptions = ["async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "lazytime",
                            "loud", "mand", "noatime", "nodev", "nodiratime", "noexec", "nolazytime", "nomand",
                            "norelatime", "nostrictatime", "nosuid", "private", "rbind", "relatime", "remount",
                            "rprivate", "rshared", "rslave", "runbindable", "rw", "ro", "shared", "silent",
                            "slave", "strictatime", "suid", "sync", "unbindable"]
        return .object([
            ("ociVersionMin", .string("1.0.0")),
            ("ociVersionMax", .string("1.3.0")),
            ("hooks", .array(["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"].map { .string($0) })),
            ("mountOptions", .array(mountOptions.map { .string($0) })),
            ("linux", .object([
                ("namespaces", .array(NamespaceKind.allCases.map { .string($0.rawValue) })),
                ("cgroup", .object([("v1", .bool(false)), ("v2", .bool(false)), ("systemd", .bool(false)),
                                    ("systemdUser", .bool(false)), ("rdma", .bool(false))])),
                ("seccomp", .object([
                    ("enabled", .bool(true)),
                    ("actions", .array(SeccompProfile.actions.sorted().filter { $0 != "SCMP_ACT_NOTIFY" }.map { .string($0) })),
                    ("operators", .array(SeccompProfile.operators.sorted().map { .string($0) })),
                    ("supportedFlags", .array(["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
                                               "SECCOMP_FILTER_FLAG_TSYNC"].map { .string($0) })),
                ])),
                ("apparmor", .object([("enabled", .bool(false))])),
                ("selinux", .object([("enabled", .bool(false))])),
                ("intelRdt", .object([("enabled", .bool(false))])),
                ("mountExtensions", .object([("idmap", .object([("enabled", .bool(false))]))])),
            ])),
            // Annotations this runtime acts on, with what they take.
            ("annotations", .object([
                ("io.github.cove.version", .string(version)),
                (ContainerTap.helperAnnotation, .string("JSON array: a network helper's path and arguments, "
                                                        + "started before the container and handed its namespaces")),
            ])),
        ])
    }
}
