/// A config.json that cannot be used: names the field and what is wrong.
public struct SpecError: Error, CustomStringConvertible, Sendable {
    public let field: String
    public let reason: String
    public init(_ field: String, _ reason: String) { self.field = field; self.reason = reason }
    public var description: String { "config.json: \(field): \(reason)" }
}

/// Typed reads out of a JSON object, each failing with the field's path.
struct Fields {
    let json: JSON
    let path: String

    init(_ json: JSON, _ path: String) throws {
        guard case .object = json else { throw SpecError(path.isEmpty ? "(top)" : path, "expected an object") }
        self.json = json
        self.path = path
    }

    func name(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }
    func has(_ k: String) -> Bool { if let v = json[k], !v.isNull { return true }; return false }

    func string(_ k: String) throws -> String? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw SpecError(name(k), "expected a string") }
        return s
    }
    func bool(_ k: String) throws -> Bool? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw SpecError(name(k), "expected true or false") }
        return b
    }
    func int64(_ k: String) throws -> Int64? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let n = v.int64Value else { throw SpecError(name(k), "expected an integer") }
        return n
    }
    func uint32(_ k: String) throws -> UInt32? {
        guard let n = try int64(k) else { return nil }
        guard n >= 0, n <= Int64(UInt32.max) else { throw SpecError(name(k), "\(n) is out of range") }
        return UInt32(n)
    }
    func uint64(_ k: String) throws -> UInt64? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let n = v.uint64Value else { throw SpecError(name(k), "expected a non-negative integer") }
        return n
    }
    func strings(_ k: String) throws -> [String]? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw SpecError(name(k), "expected an array of strings") }
        return try a.enumerated().map { i, e in
            guard let s = e.stringValue else { throw SpecError("\(name(k))[\(i)]", "expected a string") }
            return s
        }
    }
    func objects(_ k: String) throws -> [Fields]? {
        guard let v = json[k], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw SpecError(name(k), "expected an array") }
        return try a.enumerated().map { i, e in try Fields(e, "\(name(k))[\(i)]") }
    }
    func object(_ k: String) throws -> Fields? {
        guard let v = json[k], !v.isNull else { return nil }
        return try Fields(v, name(k))
    }
    func stringMap(_ k: String) throws -> [(String, String)] {
        guard let v = json[k], !v.isNull else { return [] }
        guard let o = v.objectValue else { throw SpecError(name(k), "expected an object of strings") }
        return try o.map { key, val in
            guard let s = val.stringValue else { throw SpecError("\(name(k)).\(key)", "expected a string") }
            return (key, s)
        }
    }
}
