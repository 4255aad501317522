import CoveLinux

/// Whether the storage place can hold containers' writable layers with
/// the chosen driver. Users whose home is on NFS keep `~/.local/share`
/// there: a kernel overlay (or fuse-overlayfs) upper layer does not work
/// on a network filesystem, and the fix is a local root.
public enum StoragePlace {
    /// statfs f_type of filesystems that cannot hold an overlay's upper layer.
    static func networkType(_ magic: Int64) -> String? {
        switch magic {
        case 0x6969: return "nfs"
        case 0xFF53_4D42: return "cifs"
        case 0xFE53_4D42: return "smb2"
        case 0x517B: return "smbfs"
        case 0x0BD0_0BD0: return "lustre"
        case 0x4750_4653: return "gpfs"
        default: return nil
        }
    }
    static let overlayType: Int64 = 0x794C_7630

    /// One line saying why `driver` cannot work at `root` (on filesystem
    /// `fsType`) and what to set, or nil when nothing is known against it.
    public static func problem(driver: String, fsType: Int64?, root: String, user: String) -> String? {
        guard driver == "overlay" || driver == "fuse-overlayfs", let t = fsType else { return nil }
        let fix = "set --root or COVE_ROOT to a directory on a local disk (e.g. /var/tmp/\(user)-cove)"
        if let name = networkType(t) {
            return "the storage place \(root) is on \(name), where the \(driver) driver cannot keep a container's "
                + "writable layer: \(fix)"
        }
        if t == overlayType && driver == "overlay" {
            return "the storage place \(root) is itself on overlay, which cannot be an overlay's upper layer: "
                + "\(fix), or use --storage-driver fuse-overlayfs"
        }
        return nil
    }

    /// The check for `paths`: throws the one line when the place cannot work.
    public static func check(_ driver: StorageDriver, paths: CovePaths) throws {
        let user = Environment.userName ?? "$USER"
        if let why = problem(driver: driver.name, fsType: Files.filesystemType(paths.containers), root: paths.dataRoot,
                             user: user) {
            throw EngineError(why)
        }
    }
}
