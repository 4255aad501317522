/// What `cove run` and `cove create` are asked for, flag by flag (docker's names).
public struct RunOptions: Sendable {
    public var image = ""
    public var command: [String] = []
    public var entrypoint: String?
    public var env: [String] = []
    public var envFiles: [String] = []
    public var workdir: String?
    public var user: String?
    public var hostname: String?
    public var name: String?
    public var tty = false
    public var interactive = false
    public var detach = false
    public var autoRemove = false
    /// `cove run` in the foreground: the record is marked started when it
    /// is made, saving runAttached a rewrite of it.
    public var startsAttached = false
    /// The container's ID, chosen before it is made (an early start of
    /// cove-unshare, see ContainerEngine.startEarly); nil: a new one.
    public var presetID: String?
    public var volumes: [String] = []
    public var mounts: [String] = []
    public var tmpfs: [String] = []
    public var publish: [String] = []
    public var network = "slirp4netns"
    public var capAdd: [String] = []
    public var capDrop: [String] = []
    public var privileged = false
    public var readOnly = false
    public var readOnlyTmpfs = true
    public var securityOpts: [String] = []
    public var userns: String?
    public var initProcess = false
    public var stopSignal: String?
    public var stopTimeout: Int?
    public var labels: [String] = []
    public var pull = "missing"
    public var memory: String?
    public var cpus: String?
    public var pidsLimit: Int?
    public var storageDriver: String?
    /// The json-file log is rotated past this size (docker's max-size).
    public var logMaxSize: Int64 = 64 << 20

    public init() {}
}
