import ArgumentParser
import CoveEngine
import CoveLinux

/// `cove doctor`: one line per prerequisite, each problem with its fix.
/// Exits 1 when a problem stops rootless containers from working.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check this machine and user for rootless containers; print each problem with its fix.")

    @Flag(name: .long, help: "Print only notes and problems.")
    var quiet = false

    func run() throws {
        let data = Environment.get("XDG_DATA_HOME").flatMap { $0.isEmpty ? nil : $0 }
            ?? (Environment.get("HOME") ?? "/") + "/.local/share"
        let findings = Doctor(probe: SystemHostProbe(), storagePath: data + "/cove").run()
        for f in findings where !(quiet && f.severity == .ok) { print(f.line) }
        let problems = findings.filter { $0.severity == .problem }.count
        if problems > 0 {
            print("\(problems) problem\(problems == 1 ? "" : "s") found")
            throw ExitCode(1)
        }
    }
}
