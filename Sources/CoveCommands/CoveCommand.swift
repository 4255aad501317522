import ArgumentParser
import CoveEngine

/// The `cove` command tree. It lives in a library so it can be tested; the
/// executable only calls `main()`.
public struct CoveCommand: AsyncParsableCommand {
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
    static let configuration = CommandConfiguration(abstract: "Show where cove's helpers are, the storage root and the storage driver in use, and why.")

    func run() throws {
        let locator = HelperLocator.forThisProgram()
        print("version: \(CoveVersion.string)")
        for helper in ["cove-unshare", "cove-fs", "cove-net"] {
            print("\(helper): \(locator.find(helper) ?? "not found (searched \(locator.searchPath.joined(separator: ", ")))")")
        }
        // The driver new containers get, and why (probed once, then kept).
        let paths = try GlobalOptions.paths()
        print("storage root: \(paths.dataRoot)")
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
