/// cove-fs's command line: a command, then its options (a value each, some
/// repeatable) and operands, in any order.
struct FsArguments {
    var command = ""
    var values: [String: String] = [:]
    var lists: [String: [String]] = [:]
    var operands: [String] = []

    struct Shape {
        var values: Set<String> = []
        var lists: Set<String> = []
        var usage: String
    }

    static let shapes: [String: Shape] = [
        "unpack": Shape(values: ["--blob", "--diff-id", "--into", "--max-size", "--max-entries"], lists: ["--lower"],
                        usage: "unpack --blob PATH --diff-id sha256:HEX --into DIR [--lower DIR]... "
                            + "[--max-size BYTES] [--max-entries N]"),
        "remove": Shape(usage: "remove DIR..."),
        "probe": Shape(values: ["--dir"], usage: "probe --dir DIR"),
        "copy": Shape(values: ["--into", "--path"], lists: ["--layer"], usage: "copy --layer DIR... --into DIR [--path DIR]"),
    ]

    struct UsageError: Error, CustomStringConvertible { let description: String }

    init(_ argv: [String]) throws {
        guard let first = argv.first else { command = "help"; return }
        if first == "--help" || first == "-h" || first == "help" { command = "help"; return }
        if first == "--version" { command = "version"; return }
        guard let shape = FsArguments.shapes[first] else {
            throw UsageError(description: "unknown command \(first) (unpack, remove, probe or copy; see cove-fs --help)")
        }
        command = first
        var i = 1
        var onlyOperands = false
        while i < argv.count {
            let a = argv[i]
            i += 1
            if onlyOperands || !a.hasPrefix("-") || a == "-" { operands.append(a); continue }
            if a == "--" { onlyOperands = true; continue }
            var name = a
            var inline: String?
            if let eq = a.firstIndex(of: "="), a.hasPrefix("--") {
                name = String(a[..<eq]); inline = String(a[a.index(after: eq)...])
            }
            if name == "--help" || name == "-h" { throw UsageError(description: "usage: cove-fs \(shape.usage)") }
            guard shape.values.contains(name) || shape.lists.contains(name) else {
                throw UsageError(description: "unknown option \(a) for \(command); usage: cove-fs \(shape.usage)")
            }
            let value: String
            if let inline { value = inline } else {
                guard i < argv.count else { throw UsageError(description: "option \(name) needs a value") }
                value = argv[i]
                i += 1
            }
            if shape.lists.contains(name) { lists[name, default: []].append(value) } else { values[name] = value }
        }
    }

    func required(_ name: String) throws -> String {
        guard let v = values[name], !v.isEmpty else {
            throw UsageError(description: "\(command) needs \(name); usage: cove-fs \(FsArguments.shapes[command]?.usage ?? "")")
        }
        return v
    }

    func number(_ name: String, default d: UInt64) throws -> UInt64 {
        guard let v = values[name] else { return d }
        guard let n = UInt64(v), n > 0 else { throw UsageError(description: "\(name) \(v): not a positive whole number") }
        return n
    }
}
