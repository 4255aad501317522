#if canImport(Glibc)
import Glibc
#endif
import CoveLinux
import CoveModel

/// Port forwards that can change while the container runs.
protocol ForwardTable: AnyObject {
    func addForward(_ f: PortForward) throws -> Int
    func removeForward(id: Int) throws
    var forwards: [(id: Int, forward: PortForward)] { get }
}

/// The JSON API on a unix socket: one request per connection, ended by a
/// newline or by the client's shutdown of its writing side, and one reply.
///   {"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1",
///                                            "host_port": 8080, "guest_port": 80}}
///   {"execute": "list_hostfwd"}
///   {"execute": "remove_hostfwd", "arguments": {"id": 1}}
/// Replies are {"return": {...}} or {"error": {"desc": "..."}}.
/// It is served from the packet loop, so nothing here may block: sockets
/// are non-blocking, requests bounded in size, clients in number and time.
final class ForwardAPI {
    static let maxRequest = 16 << 10
    static let maxClients = 16
    static let clientTimeoutMs: Int64 = 5_000

    final class Client {
        let fd: Int32
        let deadline: Int64
        var request: [UInt8] = []
        init(fd: Int32, deadline: Int64) { self.fd = fd; self.deadline = deadline }
    }

    let path: String
    let listenFD: Int32
    private var clients: [Client] = []

    init(path: String) throws {
        self.path = path
        listenFD = try NetAPISocket.listen(path)
    }

    func close() {
        for c in clients { Glibc.close(c.fd) }
        clients.removeAll()
        Glibc.close(listenFD)
        unlink(path)
    }

    /// The entries to poll, listener first, then clients in order.
    func pollEntries() -> [pollfd] {
        [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            + clients.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
    }

    /// Milliseconds until the oldest client's deadline, if any.
    func millisecondsToDeadline(now: Int64) -> Int64? {
        clients.map(\.deadline).min().map { max(0, $0 - now) }
    }

    /// Serves what `poll` reported for the entries of `pollEntries`.
    func handle(_ polled: ArraySlice<pollfd>, table: ForwardTable) {
        let now = SlirpTimers.nowMilliseconds()
        let current = clients
        for (c, p) in zip(current, polled.dropFirst()) where p.revents != 0 {
            if let request = read(c) { reply(c, to: request, table: table) }
        }
        for c in clients where c.deadline <= now { drop(c) }
        if let first = polled.first, first.revents & Int16(POLLIN) != 0 { acceptWaiting(now: now) }
    }

    private func acceptWaiting(now: Int64) {
        for _ in 0..<ForwardAPI.maxClients {
            let fd: Int32?
            do { fd = try NetAPISocket.accept(listenFD) } catch { NetLog.error("\(error)"); return }
            guard let fd else { return }
            if clients.count >= ForwardAPI.maxClients, let oldest = clients.first { drop(oldest) }
            clients.append(Client(fd: fd, deadline: now + ForwardAPI.clientTimeoutMs))
        }
    }

    private func drop(_ c: Client) {
        Glibc.close(c.fd)
        clients.removeAll { $0 === c }
    }

    /// Reads what is there; the whole request once it is complete.
    private func read(_ c: Client) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(c.fd, $0.baseAddress, $0.count) }
            if n > 0 {
                c.request += buf[0..<n]
                if let nl = c.request.firstIndex(of: 0x0A) { return Array(c.request[..<nl]) }
                if c.request.count > ForwardAPI.maxRequest { drop(c); return nil }
                continue
            }
            if n == 0 { return c.request }
            if errno == EINTR { continue }
            if errno != EAGAIN { drop(c) }
            return nil
        }
    }

    private func reply(_ c: Client, to request: [UInt8], table: ForwardTable) {
        let answer: JSON
        do {
            answer = .object([("return", try ForwardAPI.execute(try JSON.parse(request), table: table))])
        } catch {
            answer = .object([("error", .object([("desc", .string("\(error)"))]))])
        }
        let bytes = Array((answer.serialized() + "\n").utf8)
        // A reply is small and the socket empty: one write, and a client
        // that does not read loses its reply rather than stalling the loop.
        _ = bytes.withUnsafeBytes { Glibc.write(c.fd, $0.baseAddress, $0.count) }
        drop(c)
    }

    struct RequestError: Error, CustomStringConvertible {
        let description: String
    }

    static func execute(_ request: JSON, table: ForwardTable) throws -> JSON {
        let args = request["arguments"]
        switch request["execute"]?.stringValue {
        case "add_hostfwd":
            let f = try forward(from: args)
            return .object([("id", .int(try table.addForward(f)))])
        case "remove_hostfwd":
            guard let id = args?["id"]?.int64Value else { throw RequestError(description: "arguments.id is required") }
            try table.removeForward(id: Int(id))
            return .object([])
        case "list_hostfwd":
            let entries: [JSON] = table.forwards.map { e in
                .object([("id", .int(e.id)), ("proto", .string(e.forward.udp ? "udp" : "tcp")),
                         ("host_addr", .string(e.forward.hostAddress.description)),
                         ("host_port", .int(e.forward.hostPort)), ("guest_port", .int(e.forward.containerPort))])
            }
            return .object([("entries", .array(entries))])
        case let other?:
            throw RequestError(description: "unknown command \(other)")
        case nil:
            throw RequestError(description: "a request needs \"execute\"")
        }
    }

    static func forward(from args: JSON?) throws -> PortForward {
        guard let args else { throw RequestError(description: "add_hostfwd needs arguments") }
        let proto = args["proto"]?.stringValue ?? "tcp"
        guard proto == "tcp" || proto == "udp" else { throw RequestError(description: "proto must be tcp or udp") }
        let addrText = args["host_addr"]?.stringValue ?? "0.0.0.0"
        guard let addr = IPAddress(addrText) else { throw RequestError(description: "bad host_addr \(addrText)") }
        guard let hp = args["host_port"]?.int64Value, hp > 0, hp <= 65535,
              let gp = args["guest_port"]?.int64Value, gp > 0, gp <= 65535 else {
            throw RequestError(description: "host_port and guest_port must be 1 to 65535")
        }
        return PortForward(udp: proto == "udp", hostAddress: addr, hostPort: UInt16(hp), containerPort: UInt16(gp))
    }
}
