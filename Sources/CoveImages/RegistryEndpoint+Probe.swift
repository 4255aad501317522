#if canImport(Glibc)
import Glibc
#endif

extension RegistryEndpoint {
    /// Host and port for a scheme (`[::1]:5000`, `host` → 443 or 80).
    func hostAndPort(_ scheme: String) -> (String, String) {
        var h = Substring(host)
        var port = scheme == "https" ? "443" : "80"
        if h.hasPrefix("["), let close = h.firstIndex(of: "]") {
            let rest = h[h.index(after: close)...]
            if rest.hasPrefix(":") { port = String(rest.dropFirst()) }
            h = h[h.index(after: h.startIndex)..<close]
        } else if let colon = h.lastIndex(of: ":"), h.firstIndex(of: ":") == colon {
            port = String(h[h.index(after: colon)...])
            h = h[..<colon]
        }
        return (String(h), port)
    }

    /// True when every address of the host refuses a TCP connection on the
    /// scheme's port. The HTTP client retries a refused connection until
    /// its timeout (seconds); this tells "nothing listens there" at once.
    /// Addresses that do not answer within `seconds` count as not refusing.
    package func refusesConnections(_ scheme: String, seconds: Int32 = 2) -> Bool {
        let (h, port) = hostAndPort(scheme)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(h, port, &hints, &list) == 0, let first = list else { return false }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let a = node {
            node = a.pointee.ai_next
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                            a.pointee.ai_protocol)
            if fd < 0 { return false }
            defer { close(fd) }
            if connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return false }
            if errno == ECONNREFUSED { continue }
            guard errno == EINPROGRESS else { return false }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&p, 1, seconds * 1000) == 1 else { return false }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != ECONNREFUSED { return false }
        }
        return true
    }
}
