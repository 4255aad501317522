/// Byte counts as docker prints them.
public enum ByteSize {
    /// SI units, three significant digits: 4.26MB, as docker prints sizes.
    public static func human(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var v = Double(bytes)
        var u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        var text = String(format3(v))
        if text.contains(".") { while text.hasSuffix("0") { text.removeLast() }; if text.hasSuffix(".") { text.removeLast() } }
        return text + units[u]
    }

    static func format3(_ v: Double) -> String {
        let decimals = v >= 100 ? 0 : v >= 10 ? 1 : 2
        let scale = [1.0, 10.0, 100.0][decimals]
        let r = (v * scale).rounded() / scale
        let whole = Int(r)
        if decimals == 0 { return String(whole) }
        let frac = Int(((r - Double(whole)) * scale).rounded())
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: decimals - f.count) + f
    }
}
