#ifndef COVE_NET_H
#define COVE_NET_H
#include <stdint.h>
#include <sys/types.h>

/// Opens /dev/net/tun and attaches a tap device `name` (IFF_TAP|IFF_NO_PI),
/// close-on-exec and non-blocking; returns the fd.
int cove_tap_open(const char *name);
// TUNSETPERSIST: closing the last fd no longer unregisters the device.
int cove_tap_set_persist(int fd);
/// Sets IFF_UP on the interface `name`.
int cove_if_up(const char *name);
/// IPv4 address and netmask (network byte order) of interface `name`.
int cove_if_set_ipv4(const char *name, uint32_t addr, uint32_t mask);
int cove_if_set_mtu(const char *name, int mtu);
/// A default route via gateway (network byte order) out of `name`.
int cove_route_add_default(const char *name, uint32_t gateway);
/// pidfd_open(2): an fd that polls readable when `pid` exits.
int cove_pidfd_open(pid_t pid);
/* A signal to the process a pidfd names: never to a later process that reuses its pid. */
int cove_pidfd_send_signal(int pidfd, int sig);
/// A listening SOCK_STREAM unix socket at path, non-blocking, close-on-exec.
int cove_listen_unix(const char *path, int backlog);
/// accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; -1 with EAGAIN when none waits.
int cove_accept_nonblocking(int fd);

/// An IPv4 or IPv6 socket address in a form Swift can build: family is
/// AF_INET or AF_INET6, addr holds 4 or 16 bytes in network order, port is
/// in host order.
struct cove_inet_addr {
    int family;
    uint8_t addr[16];
    uint16_t port;
};
/// IPv6 address and prefix length of interface `name` (addr: 16 bytes).
int cove_if_set_ipv6(const char *name, const uint8_t *addr, int prefix);
/// A default IPv6 route via gateway (16 bytes) out of `name`.
int cove_route_add_default6(const char *name, const uint8_t *gateway);
/// Writes `value` to the sysctl file at path (e.g. /proc/sys/net/...).
int cove_write_sysctl(const char *path, const char *value);
/// A non-blocking, close-on-exec socket of `type` (SOCK_STREAM or
/// SOCK_DGRAM) bound to a with SO_REUSEADDR and SO_REUSEPORT (IPV6_V6ONLY on
/// an IPv6 address); listening with backlog when type is SOCK_STREAM.
int cove_inet_bind(int type, const struct cove_inet_addr *a, int backlog);
/// The address a socket is bound to.
int cove_inet_local(int fd, struct cove_inet_addr *a);
/// Steers a SO_REUSEPORT group by a classic BPF program on the source
/// address: loopback clients (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104) to the
/// group's first socket, every other client to its second.
int cove_reuseport_steer_loopback(int fd);
/// accept4, non-blocking and close-on-exec, with the peer's address.
int cove_inet_accept(int fd, struct cove_inet_addr *peer);
/// A non-blocking socket of `type`, bound to `from` (port 0 lets the kernel
/// pick; from may be NULL) and connected to `to`; for TCP the connection may
/// still be in progress (check with cove_socket_error once writable).
int cove_inet_connect(int type, const struct cove_inet_addr *from, const struct cove_inet_addr *to);
/// SO_ERROR of a socket: 0 when its connection is up.
int cove_socket_error(int fd);
/// Closes a TCP socket with a reset (SO_LINGER 0) rather than a FIN.
void cove_close_reset(int fd);
ssize_t cove_inet_recvfrom(int fd, void *buf, size_t len, struct cove_inet_addr *from);
ssize_t cove_inet_sendto(int fd, const void *buf, size_t len, const struct cove_inet_addr *to);
/// A non-blocking, close-on-exec pipe, its capacity raised towards `size`
/// (as far as /proc/sys/fs/pipe-max-size lets an unprivileged user);
/// returns its capacity in bytes.
int cove_pipe_nonblocking(int fds[2], int size);
/// splice(2) with SPLICE_F_NONBLOCK | SPLICE_F_MOVE, retried on EINTR.
ssize_t cove_splice(int in, int out, size_t len);
/// The lowest fd number free now.
int cove_lowest_free_fd(void);
/// dup3(from, to, O_CLOEXEC).
int cove_dup_onto(int from, int to);
/// SO_PEEK_OFF: where the next MSG_PEEK reads, counted from the first
/// unread byte (TCP since Linux 6.9); -1 turns peeking offsets off.
int cove_set_peek_offset(int fd, int offset);
/// What a TCP socket's send buffer can still take, in bytes: SO_SNDBUF less
/// what SIOCOUTQ reports queued (unsent and unacknowledged); -1 on error.
int cove_tcp_send_room(int fd);
/// TCP_NODELAY on.
int cove_tcp_nodelay(int fd);
/// epoll_create1(EPOLL_CLOEXEC).
int cove_epoll_create(void);
/// Adds fd to an epoll set, edge-triggered, for input, output, errors and
/// the peer's shutdown; `key` comes back with its events.
int cove_epoll_add(int epfd, int fd, uint64_t key);
/// The ready events (at most max) without waiting: each entry's key and
/// its events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP: the same
/// bits as POLLIN …). Returns how many, or -1.
int cove_epoll_ready(int epfd, uint64_t *keys, uint32_t *events, int max);
#endif
