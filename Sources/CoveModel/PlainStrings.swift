extension Array where Element == String {
    /// `joined(separator:)` for the start path: the standard library's is
    /// not specialised for us, and its first call in a fresh process costs
    /// the runtime's generic metadata lookups (a scan of every protocol
    /// conformance in the binary), several times the joining itself.
    public func joinedPlain(_ separator: String) -> String {
        var out = ""
        for i in indices {
            if i > startIndex { out += separator }
            out += self[i]
        }
        return out
    }
}

extension Array where Element == Substring {
    /// As `[String].joinedPlain`.
    public func joinedPlain(_ separator: String) -> String {
        var out = ""
        for i in indices {
            if i > startIndex { out += separator }
            out += String(self[i])
        }
        return out
    }
}

extension String {
    /// Whether a component of this path is "..". Over the bytes:
    /// `contains("/../")` goes through _StringProcessing, whose first use
    /// in a process builds searchers and their generic metadata.
    public var hasParentComponent: Bool {
        var dots = 0
        var other = false
        for b in utf8 {
            if b == UInt8(ascii: "/") {
                if dots == 2 && !other { return true }
                dots = 0
                other = false
            } else if b == UInt8(ascii: ".") {
                dots += 1
            } else {
                other = true
            }
        }
        return dots == 2 && !other
    }
}
