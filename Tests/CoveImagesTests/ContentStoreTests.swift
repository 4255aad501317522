import CoveImages
import CoveModel
import Glibc
import Testing

struct ContentStoreTests {
    func ingest(_ store: ContentStore, _ data: [UInt8], expected: String?) throws -> ContentStore.Ingested {
        var offset = 0
        return try store.ingest(name: "test", expected: try expected.map { try Digest(parsing: $0) }, size: Int64(data.count)) { buf in
            // Small pieces, so that two ingests interleave.
            let n = min(buf.count, data.count - offset, 1000)
            data.withUnsafeBytes { buf.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + n])) }
            offset += n
            return n
        }
    }

    @Test func aMismatchedDigestIsRefusedAndNothingIsStored() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let wrong = sha(bytes("something else"))
        let error = #expect(throws: ImageError.self) { try ingest(store, bytes("content"), expected: wrong) }
        #expect(error?.description.contains("expected \(wrong)") == true)
        #expect(dir.listing(dir.path + "/blobs").isEmpty)
        #expect(dir.listing(dir.path + "/ingest").isEmpty)
    }

    @Test func concurrentIngestOfOneBlobEndsWithOneGoodBlob() async throws {
        let dir = TestDir(); defer { dir.remove() }
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let digest = sha(data)
        let root = dir.path
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try ContentStore(root: root)
                    return try store.withLock(exclusive: false) { try self.ingest(store, data, expected: digest).created }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
        let store = try ContentStore(root: root)
        #expect(try store.read(try Digest(parsing: digest), limit: 1 << 20) == data)
        #expect(dir.listing(dir.path + "/blobs") == ["./sha256/" + String(digest.dropFirst(7))])
        #expect(dir.listing(dir.path + "/ingest").isEmpty)
    }

    @Test func staleIngestFilesAreRemovedWhenTheStoreOpens() throws {
        let dir = TestDir(); defer { dir.remove() }
        _ = try ContentStore(root: dir.path)
        // Above the kernel's pid_max limit: no such process can exist.
        let stale = dir.path + "/ingest/4194305-deadbeef"
        let mine = dir.path + "/ingest/\(getpid())-cafe"
        for p in [stale, mine] { close(open(p, O_CREAT | O_WRONLY, 0o600)) }
        _ = try ContentStore(root: dir.path)
        #expect(access(stale, F_OK) != 0)
        #expect(access(mine, F_OK) == 0)
    }

    @Test func garbageCollectionKeepsReferencedBlobsAndClearsIngest() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let keep = try store.withLock(exclusive: false) { try ingest(store, bytes("keep"), expected: nil).digest }
        let drop = try store.withLock(exclusive: false) { try ingest(store, bytes("drop"), expected: nil).digest }
        close(open(dir.path + "/ingest/\(getpid())-left", O_CREAT | O_WRONLY, 0o600))
        #expect(try store.garbageCollect(keep: [keep]) == 1)
        #expect(store.contains(keep))
        #expect(!store.contains(drop))
        #expect(dir.listing(dir.path + "/ingest").isEmpty)
    }
}
