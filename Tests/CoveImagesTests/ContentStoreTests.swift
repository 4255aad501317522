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

struct PartialBlobTests {
    func opened(_ store: ContentStore, _ data: [UInt8]) throws -> PartialBlob? {
        if case .opened(let p) = try store.openPartial(try Digest(parsing: sha(data)), size: Int64(data.count), name: "test blob") {
            return p
        }
        return nil
    }

    func append(_ p: PartialBlob, _ data: ArraySlice<UInt8>) throws {
        try Array(data).withUnsafeBytes { try p.append($0) }
    }

    @Test func aReleasedDownloadIsRehashedAndContinued() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let first = try #require(try opened(store, data))
        try append(first, data[0..<70_000])
        first.release()
        let second = try #require(try opened(store, data))
        #expect(second.resumedFrom == 70_000)
        try append(second, data[70_000...])
        #expect(try second.commit())
        #expect(store.contains(try Digest(parsing: sha(data))))
        #expect(dir.listing(dir.path + "/partial").isEmpty)
        if case .inStore = try store.openPartial(try Digest(parsing: sha(data)), size: 200_000, name: "t") {} else {
            Issue.record("a stored blob should not be fetched again")
        }
    }

    /// A pull killed between linking the blob into the store and unlinking
    /// its partial file: the next open finds the blob stored and removes
    /// the leftover, but not one a live pull still holds.
    @Test func aLeftoverPartialOfAStoredBlobIsRemoved() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let data = bytes("stored already")
        let digest = try Digest(parsing: sha(data))
        let p = try #require(try opened(store, data))
        try append(p, data[...])
        #expect(try p.commit())
        let leftover = dir.path + "/partial/" + digest.hex
        #expect(link(store.blobPath(digest), leftover) == 0)
        let held = open(leftover, O_RDONLY)
        #expect(flock(held, LOCK_EX) == 0)
        if case .inStore = try store.openPartial(digest, size: Int64(data.count), name: "t") {} else {
            Issue.record("a stored blob should not be fetched again")
        }
        #expect(access(leftover, F_OK) == 0, "a held partial file was removed")
        close(held)
        if case .inStore = try store.openPartial(digest, size: Int64(data.count), name: "t") {} else {
            Issue.record("a stored blob should not be fetched again")
        }
        #expect(dir.listing(dir.path + "/partial").isEmpty)
    }

    @Test func aSecondOpenWaitsWhileTheFirstHoldsTheBlob() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let data = bytes("some blob content")
        let first = try #require(try opened(store, data))
        try append(first, data[0..<4])
        guard case .busy(let got) = try store.openPartial(try Digest(parsing: sha(data)), size: Int64(data.count), name: "t") else {
            Issue.record("a held partial download should be busy")
            return
        }
        #expect(got == 4)
        try append(first, data[4...])
        #expect(try first.commit())
    }

    @Test func wrongBytesAreRemovedAndTooManyRefused() throws {
        let dir = TestDir(); defer { dir.remove() }
        let store = try ContentStore(root: dir.path)
        let data = bytes("expected content")
        let p = try #require(try opened(store, data))
        try append(p, bytes("unexpected bytes")[...])
        let error = #expect(throws: ImageError.self) { try p.commit() }
        #expect(error?.description.contains("test blob does not match its digest") == true)
        #expect(dir.listing(dir.path + "/partial").isEmpty)
        #expect(dir.listing(dir.path + "/blobs/sha256").isEmpty)
        let q = try #require(try opened(store, data))
        #expect(throws: ImageError.self) { try append(q, (data + data)[...]) }
        #expect(dir.listing(dir.path + "/partial").isEmpty)
    }
}
