import CArchive
import CoveImages
import CoveModel
import Glibc

/// Builds tar archives in a temporary directory for the loader's tests.
struct TestDir {
    let path: String

    init() {
        var template = Array("/tmp/cove-images-test-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
    }

    func remove() { _ = system("rm -rf '\(path)'") }

    /// A tar file of the given entries, written with libarchive.
    func tar(_ name: String, _ entries: [(String, [UInt8])]) -> String {
        let file = path + "/" + name
        let a = archive_write_new()!
        archive_write_set_format_pax_restricted(a)
        precondition(archive_write_open_filename(a, file) == ARCHIVE_OK)
        for (n, bytes) in entries {
            let e = archive_entry_new()!
            archive_entry_set_pathname(e, n)
            archive_entry_set_size(e, Int64(bytes.count))
            archive_entry_set_filetype(e, 0o100000)
            archive_entry_set_perm(e, 0o644)
            precondition(archive_write_header(a, e) == ARCHIVE_OK)
            if !bytes.isEmpty { precondition(bytes.withUnsafeBytes { archive_write_data(a, $0.baseAddress, $0.count) } == bytes.count) }
            archive_entry_free(e)
        }
        archive_write_close(a)
        archive_write_free(a)
        return file
    }

    /// Blob names and every file under the store, for "store unchanged" checks.
    func listing(_ dir: String) -> [String] {
        let p = popen("cd '\(dir)' && find . -type f | sort", "r")!
        var out = ""
        var buf = [CChar](repeating: 0, count: 4096)
        while fgets(&buf, Int32(buf.count), p) != nil { out += String(decoding: buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        pclose(p)
        return out.split(separator: "\n").map(String.init)
    }
}

func sha(_ bytes: [UInt8]) -> String { "sha256:" + SHA256.hex(bytes) }
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A one-layer image: an (uncompressed) layer and a config naming its diff_id.
struct TestImage {
    var layer: [UInt8] = Array(repeating: 0x61, count: 3000) + bytes("layer")
    var diffID: String? = nil
    var created = "2024-01-02T03:04:05Z"

    var config: [UInt8] {
        bytes(#"{"architecture":"amd64","os":"linux","created":"\#(created)","rootfs":{"type":"layers","diff_ids":["\#(diffID ?? sha(layer))"]}}"#)
    }

    func dockerArchive(in dir: TestDir, tags: [String] = ["localhost/test:latest"], layerBytes: [UInt8]? = nil,
                       manifestPadding: Int = 0) -> String {
        let cfg = config
        let cfgName = SHA256.hex(cfg) + ".json"
        let layerName = SHA256.hex(layer) + ".tar"
        let tagList = tags.map { "\"\($0)\"" }.joined(separator: ",")
        let manifest = bytes(#"[{"Config":"\#(cfgName)","RepoTags":[\#(tagList)],"Layers":["\#(layerName)"]}]"#)
            + Array(repeating: 0x20, count: manifestPadding)
        return dir.tar("docker.tar", [(layerName, layerBytes ?? layer), (cfgName, cfg), ("manifest.json", manifest)])
    }

    func ociArchive(in dir: TestDir, layerMediaType: String = "application/vnd.oci.image.layer.v1.tar",
                    layerBytes: [UInt8]? = nil, layerSize: Int? = nil, manifestSize: Int? = nil) -> String {
        let cfg = config
        let manifest = bytes(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(sha(cfg))","size":\#(cfg.count)},"layers":[{"mediaType":"\#(layerMediaType)","digest":"\#(sha(layer))","size":\#(layerSize ?? layer.count)}]}"#)
        let index = bytes(#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(sha(manifest))","size":\#(manifestSize ?? manifest.count),"annotations":{"org.opencontainers.image.ref.name":"localhost/oci:v1"}}]}"#)
        return dir.tar("oci.tar", [
            ("oci-layout", bytes(#"{"imageLayoutVersion":"1.0.0"}"#)), ("index.json", index),
            ("blobs/sha256/" + SHA256.hex(manifest), manifest), ("blobs/sha256/" + SHA256.hex(cfg), cfg),
            ("blobs/sha256/" + SHA256.hex(layer), layerBytes ?? layer),
        ])
    }
}
