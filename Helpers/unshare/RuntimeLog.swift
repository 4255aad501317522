#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel
import Logging

/// Where cove-unshare's messages go: stderr, and the file given by `--log`
/// in the format given by `--log-format` (json is what containerd and
/// podman read back: one object per line with level, msg and time).
struct RuntimeLogHandler: LogHandler {
    enum Format: String { case text, json }

    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    let logFD: Int32
    let format: Format
    let toStderr: Bool

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = event.message.description
        let merged = metadata.merging(event.metadata ?? [:]) { _, b in b }
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        if toStderr {
            let line = "cove-unshare: \(event.level >= .error ? "" : "\(event.level): ")\(text)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
        guard logFD >= 0 else { return }
        let levelName: String
        switch event.level {
        case .trace, .debug: levelName = "debug"
        case .info, .notice: levelName = "info"
        case .warning: levelName = "warning"
        case .error, .critical: levelName = "error"
        }
        let line: String
        switch format {
        case .json:
            line = JSON.object([("level", .string(levelName)), ("msg", .string(text)),
                                ("time", .string(Clock.rfc3339Now()))]).serialized() + "\n"
        case .text:
            line = "\(Clock.rfc3339Now()) \(levelName): \(text)\n"
        }
        _ = line.withCString { write(logFD, $0, strlen($0)) }
    }
}

enum RuntimeLog {
    nonisolated(unsafe) static var debug = false

    /// With --debug: milliseconds since the process started, per stage, to
    /// show where a start spends its time.
    static func phase(_ what: @autoclosure () -> String) {
        guard debug else { return }
        logger.debug("\(String(Clock.monotonicMilliseconds() - startedAt)) ms [\(getpid())] \(what())")
    }
    nonisolated(unsafe) static var startedAt = Clock.monotonicMilliseconds()

    nonisolated(unsafe) static var logger = Logger(label: "cove-unshare")
    nonisolated(unsafe) static var fd: Int32 = -1

    static func configure(path: String?, format: RuntimeLogHandler.Format, debug: Bool) {
        var fd: Int32 = -1
        if let path {
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        }
        RuntimeLog.fd = fd
        RuntimeLog.debug = debug
        var handler = RuntimeLogHandler(logFD: fd, format: format, toStderr: true)
        if debug { handler.logLevel = .debug }
        logger = Logger(label: "cove-unshare", factory: { _ in handler })
        logger.logLevel = handler.logLevel
    }
}
