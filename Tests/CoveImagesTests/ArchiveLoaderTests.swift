import CoveArchives
import CoveImages
import CoveModel
import Glibc
import Testing

struct ArchiveLoaderTests {
    func load(_ archive: String, into root: String) throws -> [ImageRecord] {
        try ArchiveLoader(store: try ContentStore(root: root)).load(archive: archive)
    }

    @Test func aDockerArchiveLoadsWithItsBlobsVerified() throws {
        let dir = TestDir(); defer { dir.remove() }
        let image = TestImage()
        let records = try load(image.dockerArchive(in: dir), into: dir.path + "/store")
        #expect(records.map(\.name) == ["localhost/test:latest"])
        #expect(records.first?.config.description == sha(image.config))
        #expect(records.first?.created == image.created)
        let store = try ContentStore(root: dir.path + "/store")
        #expect(try ImageIndex(store: store).list() == records)
        let manifest = try JSON.parse(try store.read(try #require(records.first).manifest))
        #expect(manifest["layers"]?.arrayValue?.first?["digest"]?.stringValue == sha(image.layer))
        #expect(manifest["layers"]?.arrayValue?.first?["mediaType"]?.stringValue == "application/vnd.oci.image.layer.v1.tar")
        #expect(try store.read(try Digest(parsing: sha(image.layer))) == image.layer)
    }

    @Test func anOCIArchiveLoads() throws {
        let dir = TestDir(); defer { dir.remove() }
        let image = TestImage()
        let records = try load(image.ociArchive(in: dir), into: dir.path + "/store")
        #expect(records.map(\.name) == ["localhost/oci:v1"])
        #expect(records.first?.size == Int64(image.config.count + image.layer.count))
        #expect(dir.listing(dir.path + "/store/blobs/sha256").count == 3)
    }

    /// Each case must be refused with a one-line error containing `message`
    /// and leave no blob and no images.json behind.
    static let refusals: [(String, String)] = [
        ("oci layer bytes changed", "does not match its digest"),
        ("docker layer bytes changed", "does not match its digest"),
        ("docker diff_id wrong", "does not match its diff_id"),
        ("oci layer shorter than declared", "is truncated"),
        ("docker manifest.json over 4 MiB", "larger than 4 MiB"),
        ("oci manifest declared over 4 MiB", "over the 4 MiB limit"),
        ("unknown layer media type", "unsupported media type \"application/x-foo\""),
        ("archive cut in the middle of a layer", "Truncated input"),
    ]

    @Test(arguments: refusals)
    func refusedArchivesLeaveTheStoreUnchanged(_ name: String, _ message: String) throws {
        let dir = TestDir(); defer { dir.remove() }
        let root = dir.path + "/store"
        // One good image first: the refused load must not disturb it.
        _ = try load(TestImage(layer: bytes("other")).dockerArchive(in: dir, tags: ["localhost/keep:1"]), into: root)
        let before = dir.listing(root)
        var image = TestImage()
        var changed = image.layer
        changed[10] ^= 1
        let archive: String
        switch name {
        case "oci layer bytes changed": archive = image.ociArchive(in: dir, layerBytes: changed)
        case "docker layer bytes changed": archive = image.dockerArchive(in: dir, layerBytes: changed)
        case "docker diff_id wrong":
            image.diffID = sha(changed)
            archive = image.dockerArchive(in: dir)
        case "oci layer shorter than declared": archive = image.ociArchive(in: dir, layerSize: image.layer.count + 100)
        case "docker manifest.json over 4 MiB": archive = image.dockerArchive(in: dir, manifestPadding: 5 << 20)
        case "oci manifest declared over 4 MiB": archive = image.ociArchive(in: dir, manifestSize: 5 << 20)
        case "unknown layer media type": archive = image.ociArchive(in: dir, layerMediaType: "application/x-foo")
        default:
            image.layer = Array(repeating: 0x62, count: 200_000)
            archive = image.dockerArchive(in: dir)
            #expect(truncate(archive, 100_000) == 0)
        }
        let error = #expect(throws: ImageError.self) { try load(archive, into: root) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("\n") == false)
        #expect(dir.listing(root) == before)
    }

    @Test func anArchiveWithNeitherLayoutIsRefused() throws {
        let dir = TestDir(); defer { dir.remove() }
        let archive = dir.tar("x.tar", [("hello.txt", bytes("hi"))])
        let error = #expect(throws: ImageError.self) { try load(archive, into: dir.path + "/store") }
        #expect(error?.description.contains("neither a docker-archive") == true)
    }
}
