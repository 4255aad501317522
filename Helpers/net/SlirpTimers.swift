#if canImport(Glibc)
import Glibc
#endif
import CSlirp

/// The timers libslirp asks for (timer_new/timer_mod/timer_free), kept in
/// a short list; the poll loop sleeps until the nearest and fires it.
final class SlirpTimers {
    final class Timer {
        let callback: SlirpTimerCb
        let opaque: UnsafeMutableRawPointer?
        var expireMs: Int64?

        init(_ callback: SlirpTimerCb, _ opaque: UnsafeMutableRawPointer?) {
            self.callback = callback
            self.opaque = opaque
        }
    }

    private var list: [Timer] = []

    /// libslirp's clock: CLOCK_MONOTONIC. timer_mod's deadlines are in
    /// milliseconds of this same clock.
    static func nowNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
    static func nowMilliseconds() -> Int64 { nowNanoseconds() / 1_000_000 }

    func add(_ cb: SlirpTimerCb?, _ opaque: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        guard let cb else { return nil }
        let t = Timer(cb, opaque)
        list.append(t)
        return Unmanaged.passUnretained(t).toOpaque()
    }

    func remove(_ handle: UnsafeMutableRawPointer?) {
        guard let handle else { return }
        list.removeAll { Unmanaged.passUnretained($0).toOpaque() == handle }
    }

    func modify(_ handle: UnsafeMutableRawPointer?, expireMs: Int64) {
        guard let handle, let t = list.first(where: { Unmanaged.passUnretained($0).toOpaque() == handle }) else { return }
        t.expireMs = expireMs
    }

    func millisecondsToNearest() -> UInt32? {
        guard let next = list.compactMap(\.expireMs).min() else { return nil }
        return UInt32(clamping: max(0, next - SlirpTimers.nowMilliseconds()))
    }

    /// Fires the due timers once each. A callback may re-arm or free timers,
    /// so it runs on a snapshot and each is disarmed before its call.
    func fireExpired() {
        let now = SlirpTimers.nowMilliseconds()
        for t in list {
            guard let e = t.expireMs, e <= now else { continue }
            t.expireMs = nil
            t.callback(t.opaque)
        }
    }
}
