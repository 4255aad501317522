import CoveLinux

/// The insecure-registries setting, read where podman users already keep
/// it: `registries.conf` (containers-registries.conf(5), version 2),
/// `[[registry]]` tables with `location` and `insecure = true`. The user's
/// own file (`$XDG_CONFIG_HOME/containers/registries.conf`, else
/// `~/.config/containers/registries.conf`) wins over
/// /etc/containers/registries.conf, as in podman. Only these two keys are
/// read; everything else in the file is left to podman.
public struct RegistriesConf: Sendable, Equatable {
    public var insecure: Set<String> = []

    public init() {}

    public init(parsing text: String) {
        var inRegistry = false
        var location: String?
        var isInsecure = false
        func flush() {
            if inRegistry, isInsecure, let location { insecure.insert(location) }
            location = nil; isInsecure = false
        }
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first
                .map { String($0).trimmingSpaces() } ?? ""
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                flush()
                inRegistry = line == "[[registry]]"
                continue
            }
            guard inRegistry, let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingSpaces()
            var value = String(line[line.index(after: eq)...]).trimmingSpaces()
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if key == "location" { location = value }
            if key == "insecure" { isInsecure = value == "true" }
        }
        flush()
    }

    /// The user's file if there is one, else the system's.
    public static func standard() -> RegistriesConf {
        let config = Environment.get("XDG_CONFIG_HOME").flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? (Environment.get("HOME") ?? "/") + "/.config"
        for path in [config + "/containers/registries.conf", "/etc/containers/registries.conf"] {
            if let text = try? Files.readText(path) { return RegistriesConf(parsing: text) }
        }
        return RegistriesConf()
    }

    /// Whether pulls from `registry` (host[:port]) may skip TLS checks.
    public func isInsecure(_ registry: String) -> Bool { insecure.contains(registry) }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
