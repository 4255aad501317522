#if canImport(Glibc)
import Glibc
#endif
import CoveLinux

/// One TCP connection of the splice path: the host client's socket and the
/// socket the connector opened in the container's namespace, bytes moved
/// between them by splice(2) through a pipe per direction, never copied
/// into this process. Everything is non-blocking and driven by the poll
/// loop; the events asked for follow the state, so a full pipe stops
/// reading (backpressure) and an empty one stops asking for writability.
final class SpliceRelay {
    /// One direction: from a socket, through a pipe, to the other socket.
    struct Direction {
        let from: Int32
        let to: Int32
        let pipeRead: Int32
        let pipeWrite: Int32
        let capacity: Int
        var buffered = 0
        var readEnded = false
        var writeShut = false

        var done: Bool { writeShut }
        var wantsRead: Bool { !readEnded && buffered < capacity }
        var wantsWrite: Bool { buffered > 0 }
    }

    static let pipeSize = 1 << 20

    let client: Int32
    let server: Int32
    private(set) var connecting = true
    private var up: Direction      // client to server
    private var down: Direction    // server to client
    private(set) var closed = false

    init(client: Int32, server: Int32) throws {
        let p1 = try InetSockets.pipe(capacity: SpliceRelay.pipeSize)
        let p2: (read: Int32, write: Int32, capacity: Int)
        do { p2 = try InetSockets.pipe(capacity: SpliceRelay.pipeSize) } catch {
            close(p1.read)
            close(p1.write)
            throw error
        }
        self.client = client
        self.server = server
        up = Direction(from: client, to: server, pipeRead: p1.read, pipeWrite: p1.write, capacity: p1.capacity)
        down = Direction(from: server, to: client, pipeRead: p2.read, pipeWrite: p2.write, capacity: p2.capacity)
    }

    /// The two entries to poll: client, then server.
    func pollEntries() -> (pollfd, pollfd) {
        if connecting {
            // Nothing moves before the server side is connected; the
            // client's data waits in its socket.
            return (pollfd(fd: -1, events: 0, revents: 0), pollfd(fd: server, events: Int16(POLLOUT), revents: 0))
        }
        func events(reading r: Direction, writing w: Direction) -> Int16 {
            var e: Int16 = 0
            if r.wantsRead { e |= Int16(POLLIN) }
            if w.wantsWrite { e |= Int16(POLLOUT) }
            return e
        }
        return (pollfd(fd: client, events: events(reading: up, writing: down), revents: 0),
                pollfd(fd: server, events: events(reading: down, writing: up), revents: 0))
    }

    /// Acts on what poll reported for the two entries.
    func handle(client c: Int16, server s: Int16) {
        if closed || (c == 0 && s == 0) { return }
        if connecting {
            let e = InetSockets.pendingError(server)
            if e != 0 { reset(); return }
            connecting = false
        }
        // An error on either side ends both with a reset, so that each peer
        // learns the connection broke rather than that it ended.
        if c & Int16(POLLERR) != 0, InetSockets.pendingError(client) != 0 { reset(); return }
        if s & Int16(POLLERR) != 0, InetSockets.pendingError(server) != 0 { reset(); return }
        if !pump(&up) || !pump(&down) { reset(); return }
        if up.done && down.done { finish() }
    }

    /// Moves what it can; false on a connection error.
    private func pump(_ d: inout Direction) -> Bool {
        // Bounded: another connection gets its turn after this many moves.
        for _ in 0..<16 {
            var moved = false
            if d.wantsRead {
                let n = InetSockets.splice(from: d.from, to: d.pipeWrite, count: d.capacity - d.buffered)
                if n > 0 {
                    d.buffered += n
                    moved = true
                } else if n == 0 {
                    d.readEnded = true
                } else if errno != EAGAIN {
                    return false
                }
            }
            if d.buffered > 0 {
                let n = InetSockets.splice(from: d.pipeRead, to: d.to, count: d.buffered)
                if n > 0 {
                    d.buffered -= n
                    moved = true
                } else if n < 0 && errno != EAGAIN {
                    return false
                }
            }
            if d.readEnded && d.buffered == 0 && !d.writeShut {
                // Half-close: the peer's FIN passed on once its data is.
                shutdown(d.to, Int32(SHUT_WR))
                d.writeShut = true
            }
            if !moved { break }
        }
        return true
    }

    private func releasePipes() {
        for fd in [up.pipeRead, up.pipeWrite, down.pipeRead, down.pipeWrite] { close(fd) }
    }

    /// Both sides closed with a reset.
    func reset() {
        guard !closed else { return }
        closed = true
        InetSockets.closeWithReset(client)
        InetSockets.closeWithReset(server)
        releasePipes()
    }

    private func finish() {
        guard !closed else { return }
        closed = true
        close(client)
        close(server)
        releasePipes()
    }
}
