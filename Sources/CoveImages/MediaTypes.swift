/// The media types the store accepts; anything else is refused by name.
enum MediaTypes {
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let dockerList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let ociConfig = "application/vnd.oci.image.config.v1+json"
    static let dockerConfig = "application/vnd.docker.container.image.v1+json"

    static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    static let manifests: Set = [ociManifest, dockerManifest]
    static let indexes: Set = [ociIndex, dockerList]
    /// What a pull asks a registry for, in its `Accept` header.
    static let manifestAccept = [ociIndex, dockerList, ociManifest, dockerManifest]
    static let configs: Set = [ociConfig, dockerConfig]
    static let layers: Set = [ociLayer, ociLayerGzip, ociLayerZstd, dockerLayerGzip]

    static func isUncompressed(layer mediaType: String) -> Bool { mediaType == ociLayer }

    /// A layer's media type from its first bytes (docker-archive names none).
    static func layerType(magic: [UInt8]) -> String {
        if magic.starts(with: [0x1f, 0x8b]) { return ociLayerGzip }
        if magic.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return ociLayerZstd }
        return ociLayer
    }
}
