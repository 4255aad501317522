#if canImport(Glibc)
import Glibc
#endif

/// One line per event on stderr: cove-net has no protocol on its stdio.
enum NetLog {
    static func error(_ message: String) { emit("cove-net: \(message)\n") }
    static func info(_ message: String) { emit("cove-net: \(message)\n") }

    private static func emit(_ line: String) {
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
