#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine
import CoveLinux
import CoveModel

/// `cove logs`: the json-file log the monitor wrote, rotated part first.
struct ContainerLogs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Show a container's output.")
    @Flag(name: .shortAndLong, help: "Follow the log until the container stops.") var follow = false
    @Option(name: .long, help: "Lines from the end to show (all by default).") var tail: String?
    @Flag(name: .shortAndLong, help: "Show timestamps.") var timestamps = false
    @Option(name: .long, help: "Show lines since a time (RFC 3339) or a duration ago (10s, 5m, 2h).") var since: String?
    @Option(name: .long, help: .hidden) var root: String?
    @Argument(help: "The container.") var container: String

    struct Entry { var text: String; var stream: String; var time: String }

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        let r = try failing125 { try engine.containers.find(container) }
        let path = engine.logPath(r)
        let tailCount: Int?
        if let tail, tail != "all" {
            guard let n = Int(tail), n >= 0 else { throw failingUsage("invalid --tail \"\(tail)\": use a number or all") }
            tailCount = n
        } else {
            tailCount = nil
        }
        let sinceEpoch = try since.map { s -> Int in
            if let e = ImageListing.epoch(s) { return e }
            guard let secs = Self.durationSeconds(s) else { throw failingUsage("invalid --since \"\(s)\"") }
            return Int(time(nil)) - secs
        }
        var entries: [Entry] = []
        for p in [path + ".1", path] {
            guard let bytes = try? Files.read(p, limit: 1 << 30) else { continue }
            entries += Self.parse(bytes[...])
        }
        if let sinceEpoch { entries = entries.filter { (ImageListing.epoch($0.time) ?? 0) >= sinceEpoch } }
        if let tailCount { entries = Array(entries.suffix(tailCount)) }
        for e in entries { emit(e) }
        guard follow else { return }
        // Follow: new bytes of the current file until the container stops
        // (bounded by the container's life; a rotation starts the new file over).
        var offset = Int64((try? Files.read(path, limit: 1 << 30).count) ?? 0)
        var carry: [UInt8] = []
        while true {
            let running: Bool
            if case .running = engine.containers.condition(r) { running = true } else { running = false }
            if let bytes = try? Files.read(path, limit: 1 << 30) {
                if Int64(bytes.count) < offset { offset = 0 }
                let fresh = carry + bytes[Int(offset)...]
                offset = Int64(bytes.count)
                let lastNL = fresh.lastIndex(of: UInt8(ascii: "\n"))
                let whole = lastNL.map { fresh[...$0] } ?? []
                carry = lastNL.map { Array(fresh[($0 + 1)...]) } ?? fresh
                for e in Self.parse(whole) { emit(e) }
            }
            if !running { break }
            usleep(100_000)
        }
    }

    func emit(_ e: Entry) {
        let line = (timestamps ? e.time + " " : "") + e.text
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { write(e.stream == "stderr" ? 2 : 1, $0.baseAddress, $0.count) }
    }

    static func parse(_ bytes: ArraySlice<UInt8>) -> [Entry] {
        bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let j = try? JSON.parse(Array(line)), let text = j["log"]?.stringValue else { return nil }
            return Entry(text: text, stream: j["stream"]?.stringValue ?? "stdout", time: j["time"]?.stringValue ?? "")
        }
    }

    /// "10s", "5m", "2h", "1h30m" → seconds.
    static func durationSeconds(_ s: String) -> Int? {
        var total = 0, number = ""
        for c in s {
            if c.isNumber { number.append(c); continue }
            guard let n = Int(number) else { return nil }
            switch c {
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            default: return nil
            }
            number = ""
        }
        return number.isEmpty ? total : nil
    }
}
