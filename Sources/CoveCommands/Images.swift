import ArgumentParser
import CoveImages
#if canImport(Glibc)
import Glibc
#endif

/// `cove images`: the store's named images, as docker prints them.
struct Images: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images in the local store.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .shortAndLong, help: "Print image IDs only.")
    var quiet = false

    func run() throws {
        let records = try failing125 { try ImageIndex(store: try store.openStore()).list() }
        if quiet {
            for r in records { print(r.config.shortID) }
            return
        }
        let now = Int(time(nil))
        var rows = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]]
        for r in records {
            let (repo, tag) = ImageListing.split(r.name)
            rows.append([repo, tag, r.config.shortID, ImageListing.ago(r.created, now: now),
                         ImageListing.humanSize(r.size)])
        }
        for line in ImageListing.table(rows) { print(line) }
    }
}

enum ImageListing {
    /// "localhost/a:b" → ("localhost/a", "b"); unnamed → <none>.
    static func split(_ name: String) -> (String, String) {
        if name.isEmpty { return ("<none>", "<none>") }
        var base = Substring(name)
        if let at = base.firstIndex(of: "@") { base = base[..<at] }
        if let colon = base.lastIndex(of: ":"), !base[colon...].contains("/") {
            return (String(base[..<colon]), String(base[base.index(after: colon)...]))
        }
        return (String(base), "<none>")
    }

    /// Columns padded to their widest cell, three spaces apart (docker's tabwriter).
    static func table(_ rows: [[String]]) -> [String] {
        guard let cols = rows.first?.count else { return [] }
        let widths = (0..<cols).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c == cols - 1 ? cell : cell + String(repeating: " ", count: widths[c] - cell.count + 3)
            }.joined()
        }
    }

    /// SI units, three significant digits: 4.26MB, as docker prints sizes.
    static func humanSize(_ bytes: Int64) -> String { ByteSize.human(bytes) }

    /// "3 minutes ago" from an RFC 3339 UTC time, as docker's HumanDuration.
    static func ago(_ created: String, now: Int) -> String {
        guard let t = epoch(created) else { return "N/A" }
        let secs = max(0, now - t)
        return secs < 1 ? "Less than a second ago" : duration(secs) + " ago"
    }

    /// Seconds since the epoch of an RFC 3339 UTC time.
    static func epoch(_ text: String) -> Int? {
        let u = Array(text.utf8)
        func num(_ a: Int, _ b: Int) -> Int32? {
            guard u.count >= b else { return nil }
            return Int32(String(decoding: u[a..<b], as: UTF8.self))
        }
        guard let y = num(0, 4), let mo = num(5, 7), let d = num(8, 10), let h = num(11, 13), let mi = num(14, 16),
              let s = num(17, 19) else { return nil }
        var t = tm()
        t.tm_year = y - 1900; t.tm_mon = mo - 1; t.tm_mday = d; t.tm_hour = h; t.tm_min = mi; t.tm_sec = s
        return Int(timegm(&t))
    }

    /// docker's HumanDuration: "5 seconds", "About a minute", "3 hours"…
    static func duration(_ secs: Int) -> String {
        switch secs {
        case ..<1: return "Less than a second"
        case ..<60: return secs == 1 ? "1 second" : "\(secs) seconds"
        case ..<120: return "About a minute"
        case ..<3600: return "\(secs / 60) minutes"
        case ..<7200: return "About an hour"
        case ..<(48 * 3600): return "\(secs / 3600) hours"
        case ..<(7 * 24 * 3600 * 2): return "\(secs / 86400) days"
        case ..<(30 * 24 * 3600 * 2): return "\(secs / (7 * 86400)) weeks"
        case ..<(365 * 24 * 3600 * 2): return "\(secs / (30 * 86400)) months"
        default: return "\(secs / (365 * 86400)) years"
        }
    }
}
