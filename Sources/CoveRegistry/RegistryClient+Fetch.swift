import AsyncHTTPClient
import CoveImages
import CoveModel
import Crypto
import Foundation
import NIOCore

extension RegistryClient {
    public struct FetchedManifest: Sendable {
        public let bytes: [UInt8]
        public let mediaType: String
        public let digest: CoveImages.Digest
    }

    /// A manifest or index by tag or digest, at most 4 MiB, of a media
    /// type we know; by digest it must hash to that digest.
    public func manifest(repository: String, reference: String, image: String) async throws -> FetchedManifest {
        let scope = "repository:\(repository):pull"
        let response = try await get(RegistryEndpoint.manifestPath(repository: repository, reference: reference),
                                     scope: scope, accept: MediaTypes.manifestAccept)
        switch response.status.code {
        case 200..<300: break
        case 401, 403: throw unauthorized(image, await Self.errorSummary(response))
        case 404:
            throw ImageError("manifest unknown: \(image) is not in the registry \(endpoint.registry) "
                             + "(\(await Self.errorSummary(response)))")
        default:
            throw ImageError("\(endpoint.registry) answered \(await Self.errorSummary(response)) for the manifest of \(image)")
        }
        let what = "the manifest \(reference) of \(image)"
        let bytes = try await Self.collect(response, limit: ArchiveLoader.maxManifestSize, what: what)
        let digest = try Self.digest(of: bytes)
        if reference.hasPrefix("sha256:"), digest.description != reference {
            throw ImageError("\(what) does not match its digest: got \(digest): the registry served different content")
        }
        var mediaType = response.headers.first(name: "Content-Type")?
            .split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if !MediaTypes.manifestAccept.contains(mediaType) {
            // Some registries say application/json: the document names itself.
            mediaType = (try? JSON.parse(bytes))?["mediaType"]?.stringValue ?? mediaType
        }
        guard MediaTypes.manifestAccept.contains(mediaType) else {
            throw ImageError("unsupported media type \"\(mediaType)\" for manifest \(digest) of \(image)")
        }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }

    /// Streams a blob into `partial`, continuing after what it holds with
    /// a Range request. A server that ignores the range (200) or answers
    /// 416 makes us start over. `progress` gets the bytes held so far.
    public func fetchBlob(repository: String, into partial: PartialBlob, image: String,
                          progress: (Int64) -> Void) async throws {
        let scope = "repository:\(repository):pull"
        for _ in 0..<2 {
            let from = partial.written
            if from == partial.size { return }
            let response = try await get(RegistryEndpoint.blobPath(repository: repository, digest: partial.digest),
                                         scope: scope, range: from > 0 ? from : nil, timeout: .hours(12))
            switch response.status.code {
            case 206:
                let start = response.headers.first(name: "Content-Range").flatMap(Self.rangeStart)
                guard start == from else {
                    await Self.drain(response)
                    try partial.restart()
                    continue
                }
            case 200..<300:
                if from > 0 { try partial.restart() }
            case 416:
                await Self.drain(response)
                try partial.restart()
                continue
            case 401, 403: throw unauthorized(image, await Self.errorSummary(response))
            case 404:
                throw ImageError("\(partial.name) is not in the registry (\(await Self.errorSummary(response)))")
            default:
                throw ImageError("\(endpoint.registry) answered \(await Self.errorSummary(response)) for \(partial.name)")
            }
            progress(partial.written)
            do {
                for try await chunk in response.body {
                    try chunk.withUnsafeReadableBytes { try partial.append($0) }
                    progress(partial.written)
                }
            } catch let e as ImageError { throw e } catch let e as CancellationError { throw e } catch {
                throw TransportFailure("fetching \(partial.name): \(Self.describe(error)) "
                                       + "after \(partial.written) of \(partial.size) bytes (run the pull again to continue)")
            }
            return
        }
        throw ImageError("\(endpoint.registry) does not serve \(partial.name) from the start or from byte \(partial.written)")
    }

    /// `bytes 100-199/200` → 100.
    static func rangeStart(_ header: String) -> Int64? {
        guard header.hasPrefix("bytes ") else { return nil }
        return Int64(header.dropFirst(6).prefix(while: { $0 != "-" }))
    }

    static func digest(of bytes: [UInt8]) throws -> CoveImages.Digest {
        try CoveImages.Digest(hex: CoveModel.SHA256.hexString(Array(Crypto.SHA256.hash(data: bytes))))
    }
}
