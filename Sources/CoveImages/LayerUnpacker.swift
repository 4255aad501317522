#if canImport(Glibc)
import Glibc
#endif
import CoveModel

/// Unpacks an image's layers as `cove pull` stores their blobs, so that a
/// pull leaves the image ready to run, as podman pull does. CoveEngine's
/// LayerCache is the one; the puller (CoveRegistry) only drives it.
public protocol LayerUnpacker: Sendable {
    /// The lock that keeps unpacked layers from the collector, taken
    /// shared; the pull holds it until the image is named. Returns the fd.
    func lockShared() throws -> Int32
    /// Unpacks layer `index` of `layers` (bottom first), all below it
    /// unpacked already; nothing when it is there. Blocks until done.
    func unpack(_ layers: [UnpackLayer], index: Int, image: String) throws
}

/// A layer to unpack: its blob in the store and what it must hash to.
public struct UnpackLayer: Sendable, Equatable {
    public var digest: Digest
    public var diffID: Digest
    public init(digest: Digest, diffID: Digest) { self.digest = digest; self.diffID = diffID }
}
