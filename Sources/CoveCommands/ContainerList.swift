#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CoveEngine
import CoveModel

/// `cove ps`: docker's columns, -a, -q and --format with Go-template fields.
struct ContainerList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers.",
                                                    aliases: ["ls", "list"])
    @Flag(name: .shortAndLong, help: "Show all containers (default: running only).") var all = false
    @Flag(name: .shortAndLong, help: "Print container IDs only.") var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Do not shorten IDs and commands.") var noTrunc = false
    @Option(name: .long, help: "Format with a Go template ({{.ID}}, {{.Names}}…), or json.") var format: String?
    @Option(name: .long, help: .hidden) var root: String?

    struct Row {
        var fields: [(String, String)]
        subscript(_ k: String) -> String { fields.first { $0.0 == k }?.1 ?? "" }
    }

    func run() throws {
        let engine = try failing125 { try GlobalOptions.engine(root: root) }
        let now = Int(time(nil))
        var rows: [Row] = []
        for r in engine.containers.list() {
            let cond = engine.containers.condition(r)
            if !all, case .running = cond {} else if !all { continue }
            let status: String
            switch cond {
            case .created: status = "Created"
            case .running:
                status = "Up " + ImageListing.duration(max(0, now - (ImageListing.epoch(r.startedAt) ?? now)))
                    + (engine.networkFailure(r) != nil ? " (network down)" : "")
            case let .exited(code):
                let when = engine.containers.exitTime(r) ?? r.finishedAt
                status = "Exited (\(code.map(String.init) ?? "unknown")) " + ImageListing.ago(when, now: now)
            }
            var command = r.args.joined(separator: " ")
            if !noTrunc && command.count > 20 { command = String(command.prefix(19)) + "…" }
            rows.append(Row(fields: [
                ("ID", noTrunc ? r.id : r.shortID), ("Image", r.image), ("Command", "\"\(command)\""),
                ("CreatedAt", r.created), ("RunningFor", ImageListing.ago(r.created, now: now)),
                ("Status", status), ("State", cond.word), ("Ports", r.ports.joined(separator: ", ")),
                ("Names", r.name), ("Labels", r.labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")),
            ]))
        }
        if quiet {
            for row in rows { print(row["ID"]) }
            return
        }
        if let format {
            try printFormatted(rows, format)
            return
        }
        var table = [["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]]
        for row in rows {
            table.append([row["ID"], row["Image"], row["Command"], row["RunningFor"], row["Status"], row["Ports"], row["Names"]])
        }
        for line in ImageListing.table(table) { print(line) }
    }

    func printFormatted(_ rows: [Row], _ format: String) throws {
        if format == "json" || format == "{{json .}}" {
            let docs = rows.map { JSON.object($0.fields.map { ($0.0, .string($0.1)) }) }
            print(format == "json" ? JSON.array(docs).serialized(pretty: true) : "")
            if format != "json" { for d in docs { print(d.serialized()) } }
            return
        }
        var tpl = format
        var header = false
        if tpl.hasPrefix("table") { header = true; tpl = String(tpl.dropFirst(5)).trimmingLeadingSpaces() }
        tpl = tpl.replacingEscapes()
        if header {
            print(try GoTemplate.render(tpl) { key in key.uppercased() })
        }
        for row in rows {
            print(try GoTemplate.render(tpl) { key in
                guard row.fields.contains(where: { $0.0 == key }) else { return nil }
                return row[key]
            })
        }
    }
}

/// The subset of Go templates that `--format` needs: `{{.Field}}` and
/// `{{json .Field}}`; text between is kept.
enum GoTemplate {
    static func render(_ tpl: String, _ value: (String) -> String?) throws -> String {
        var out = ""
        var rest = Substring(tpl)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw failingUsage("invalid --format: \"{{\" without \"}}\"")
            }
            var expr = rest[open.upperBound..<close.lowerBound].trimmingSpaces()
            var quote = false
            if expr.hasPrefix("json ") { quote = true; expr = String(expr.dropFirst(5)).trimmingSpaces() }
            guard expr.hasPrefix(".") else { throw failingUsage("invalid --format: unsupported expression {{\(expr)}}") }
            let key = String(expr.dropFirst())
            guard let v = value(key) else { throw failingUsage("invalid --format: no field \"\(key)\"") }
            out += quote ? JSON.string(v).serialized() : v
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

extension StringProtocol {
    func range(of needle: String) -> Range<Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }

    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }

    func trimmingLeadingSpaces() -> String { String(drop(while: { $0 == " " })) }

    /// `\t` and `\n` as typed on a command line → the characters.
    func replacingEscapes() -> String {
        var out = ""
        var it = makeIterator()
        while let c = it.next() {
            if c == "\\" {
                switch it.next() {
                case "t": out.append("\t")
                case "n": out.append("\n")
                case let other?: out.append("\\"); out.append(other)
                case nil: out.append("\\")
                }
            } else {
                out.append(c)
            }
        }
        return out
    }
}
