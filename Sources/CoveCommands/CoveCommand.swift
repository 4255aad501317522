import ArgumentParser
import CoveLinux
import CoveModel
#if canImport(Glibc)
import Glibc
#endif
import CoveEngine

/// The `cove` command tree. It lives in a library so it can be tested; the
/// executable only calls `main()`.
public struct CoveCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "cove",
        abstract: "Run OCI containers as an unprivileged user: no daemon, nothing setuid.",
        version: CoveVersion.string,
        subcommands: [ContainerRun.self, ContainerCreate.self, ContainerStart.self, ContainerStop.self,
                      ContainerRestart.self, ContainerKill.self, ContainerRemove.self, ContainerList.self,
                      ContainerLogs.self, ContainerInspect.self, ContainerWait.self, ContainerExec.self,
                      ContainerRename.self, ContainerTop.self, ContainerPort.self, ContainerCp.self, ContainerGroup.self,
                      Pull.self, Login.self, Logout.self, Images.self, Tag.self, Rmi.self, Load.self, Save.self, Import.self,
                      ImageCommand.self,
                      Info.self, DoctorCommand.self, VolumeCommand.self])

    public init() {}
}

public enum CoveVersion {
    public static let string = "0.1.0"
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show versions, helpers, paths, id ranges, the default network and the storage driver in use, and why.")

    func run() throws {
        let locator = HelperLocator.forThisProgram()
        print("version: \(CoveVersion.string)")
        print("kernel: \(Self.kernelRelease())")
        let user = Environment.userName ?? "uid \(getuid())"
        for (file, kind) in [("/etc/subuid", "uids"), ("/etc/subgid", "gids")] {
            let ranges = SubordinateRange.parse((try? Files.readText(file)) ?? "", user: user, id: getuid())
            print("\(file): " + (ranges.isEmpty ? "no range for \(user) (containers get one id: run cove doctor)"
                : ranges.map { "\($0.count) \(kind) from \($0.start)" }.joined(separator: ", ")))
        }
        print("default network: slirp4netns (cove-net; 10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3)")
        for helper in ["cove-unshare", "cove-fs", "cove-net", "cove-registry"] {
            print("\(helper): \(locator.find(helper) ?? "not found (searched \(locator.searchPath.joined(separator: ", ")))")")
        }
        // The driver new containers get, and why (probed once, then kept).
        let paths = try GlobalOptions.paths()
        print("storage root: \(paths.dataRoot)")
        print("run root: \(paths.runRoot)")
        if let fs = locator.find("cove-fs") {
            do {
                let d = try StorageDriver.decide(paths: paths, coveFS: fs, forced: GlobalOptions.storageDriver)
                print("storage driver: \(d.name) (\(d.reason.isEmpty ? "no reason recorded" : d.reason))")
            } catch {
                print("storage driver: none: \(error)")
            }
        } else {
            print("storage driver: unknown: cove-fs not found")
        }
    }
}

extension Info {
    static func kernelRelease() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
    }
}
