/// The media types the store accepts; anything else is refused by name.
package enum MediaTypes {
    package static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    package static let ociIndex = "application/vnd.oci.image.index.v1+json"
    package static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let ociConfig = "application/vnd.oci.image.config.v1+json"
    package static let dockerConfig = "application/vnd.docker.container.image.v1+json"

    package static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    package static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    package static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    package static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    package static let manifests: Set = [ociManifest, dockerManifest]
    package static let indexes: Set = [ociIndex, dockerList]
    /// What a pull asks a registry for, in its `Accept` header.
    package static let manifestAccept = [ociIndex, dockerList, ociManifest, dockerManifest]
    package static let configs: Set = [ociConfig, dockerConfig]
    package static let layers: Set = [ociLayer, ociLayerGzip, ociLayerZstd, dockerLayerGzip]

    package static func isUncompressed(layer mediaType: String) -> Bool { mediaType == ociLayer }

    /// A layer's media type from its first bytes (docker-archive names none).
    package static func layerType(magic: [UInt8]) -> String {
        if magic.starts(with: [0x1f, 0x8b]) { return ociLayerGzip }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return ociLayerZstd }
        return ociLayer
    }
}
