#if canImport(Glibc)
import Glibc
#endif
import CoveImages
import CoveRegistry
import Synchronization

/// A pull's display on stderr (`cove pull`'s, and `cove run`'s when the
/// image is not here yet). On a terminal: one line per blob,
/// redrawn in place (at most ten times a second). Otherwise: a line when a
/// blob starts and when it is done, as podman prints them.
final class PullProgress: Sendable {
    enum Mode { case terminal, plain, quiet }

    struct Row {
        var kind: PullEvent.Kind
        var digest: Digest
        var size: Int64
        var bytes: Int64 = 0
        var status: String
    }

    struct State {
        var rows: [Row] = []
        var drawn = 0
        var lastDraw: ContinuousClock.Instant?
    }

    let mode: Mode
    private let state = Mutex(State())

    init(mode: Mode) { self.mode = mode }

    func handle(_ event: PullEvent) {
        if case .warning(let text) = event {
            // Warnings show in every mode, quiet too, as podman's do.
            state.withLock { _ in line("WARNING: " + text) }
            return
        }
        guard mode != .quiet else { return }
        state.withLock { s in
            switch event {
            case .resolved(let digest, let platform):
                if mode == .plain {
                    line("Resolved manifest \(digest)" + (platform.map { " for \($0)" } ?? ""))
                }
            case .started(let kind, let digest, let size, let resumed):
                set(&s, kind, digest, size) { $0.bytes = resumed; $0.status = resumed > 0 ? "resuming" : "copying" }
                if mode == .plain {
                    line("Copying \(kind) \(digest)" + (resumed > 0 ? " (resuming at \(resumed) of \(size) bytes)" : ""))
                }
            case .waiting(let kind, let digest, let size):
                set(&s, kind, digest, size) { $0.status = "waiting for another pull" }
                if mode == .plain { line("Waiting for another pull of \(kind) \(digest)") }
            case .progress(let digest, let bytes):
                if let i = s.rows.firstIndex(where: { $0.digest == digest }) { s.rows[i].bytes = bytes }
            case .done(let kind, let digest, let skipped):
                set(&s, kind, digest, 0) { $0.status = skipped ? "already exists" : "done"; $0.bytes = $0.size }
                if mode == .plain { line(skipped ? "Copying \(kind) \(digest) skipped: already exists" : "Copying \(kind) \(digest) done") }
            case .writingManifest:
                if mode == .plain { line("Writing manifest to image destination") }
            case .warning:
                break
            }
            if mode == .terminal { draw(&s, force: { if case .progress = event { return false }; return true }()) }
        }
    }

    /// The last drawing, whatever the rate limit held back.
    func finish() {
        guard mode == .terminal else { return }
        state.withLock { draw(&$0, force: true) }
    }

    private func set(_ s: inout State, _ kind: PullEvent.Kind, _ digest: Digest, _ size: Int64, _ change: (inout Row) -> Void) {
        if let i = s.rows.firstIndex(where: { $0.digest == digest }) {
            change(&s.rows[i])
        } else {
            var row = Row(kind: kind, digest: digest, size: size, status: "")
            change(&row)
            s.rows.append(row)
        }
    }

    private func draw(_ s: inout State, force: Bool) {
        let now = ContinuousClock.now
        if !force, let last = s.lastDraw, now - last < .milliseconds(100) { return }
        s.lastDraw = now
        var out = s.drawn > 0 ? "\u{1B}[\(s.drawn)A" : ""
        for r in s.rows {
            out += "\r\u{1B}[2KCopying \(r.kind == .config ? "config" : "blob  ") \(r.digest.shortID) "
                + bar(r) + " \(r.status)\n"
        }
        s.drawn = s.rows.count
        write(out)
    }

    private func bar(_ r: Row) -> String {
        guard r.size > 0 else { return "" }
        let width = 30
        let filled = Int(min(r.bytes, r.size) * Int64(width) / r.size)
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "] "
            + "\(ByteSize.human(min(r.bytes, r.size))) / \(ByteSize.human(r.size))"
    }

    private func line(_ text: String) { write(text + "\n") }

    private func write(_ text: String) { writeStandardError(text) }
}
