#if canImport(Glibc)
import Glibc
#endif
import CoveArchives
import CoveImages
import CoveModel
import Foundation

extension Puller {
    /// The layers with the config's diff_ids, or nil when the config does
    /// not list one per layer (verifyConfig refuses that image later).
    func unpackPlan(config: Digest, layers: [Descriptor]) -> [UnpackLayer]? {
        guard let cfg = try? JSON.parse(try store.read(config)),
              let ids = cfg["rootfs"]?["diff_ids"]?.arrayValue, ids.count == layers.count else { return nil }
        var out: [UnpackLayer] = []
        for (l, id) in zip(layers, ids) {
            guard let s = id.stringValue, let diffID = try? Digest(parsing: s) else { return nil }
            out.append(UnpackLayer(digest: l.digest, diffID: diffID))
        }
        return out
    }

    /// Unpacks the layers bottom first, each as soon as its blob is in the
    /// store (`ready` names blobs as they arrive) and the one below it is
    /// unpacked: the unpack of one layer overlaps the download of the next.
    /// Layers go one at a time because a layer's checks read the layers
    /// below it (a path through a symlink of a lower layer is refused).
    /// A failure does not fail the pull: it is a warning, and `cove
    /// create` unpacks what is missing (and says why it cannot).
    static func unpackInOrder(_ unpacker: any LayerUnpacker, _ layers: [UnpackLayer], ready: AsyncStream<Digest>,
                              image: String, progress: @escaping @Sendable (PullEvent) -> Void) async {
        var have = Set<Digest>()
        var next = 0
        for await d in ready {
            have.insert(d)
            while next < layers.count, have.contains(layers[next].digest) {
                if Task.isCancelled { return }
                let i = next
                do {
                    try await offPool { try unpacker.unpack(layers, index: i, image: image) }
                } catch {
                    // The unpacker's line names the layer and the image.
                    progress(.warning("\(error) (cove create tries again)"))
                    return
                }
                next += 1
            }
            if next == layers.count { return }
        }
    }

    /// Runs blocking work (a helper process waited for) on a thread of its
    /// own, not on one of the few threads Swift's concurrency pool has.
    static func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread { c.resume(with: Result { try body() }) }
        }
    }
}
