#define _GNU_SOURCE
#include "include/cove_net.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/ipv6_route.h>
#include <linux/if_tun.h>
#include <linux/route.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static int set_name(struct ifreq *r, const char *name) {
    memset(r, 0, sizeof *r);
    if (strlen(name) >= IFNAMSIZ) { errno = ENAMETOOLONG; return -1; }
    strncpy(r->ifr_name, name, IFNAMSIZ - 1);
    return 0;
}

int cove_tap_open(const char *name) {
    struct ifreq r;
    if (set_name(&r, name) < 0) return -1;
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return -1;
    r.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &r) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int cove_tap_set_persist(int fd) {
    return ioctl(fd, TUNSETPERSIST, 1);
}

// The SIOC* interface ioctls need some socket of the namespace's; which
// family does not matter.
static int with_socket(unsigned long req, struct ifreq *r) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int rc = ioctl(s, req, r);
    int e = errno;
    close(s);
    errno = e;
    return rc;
}

int cove_if_up(const char *name) {
    struct ifreq r;
    if (set_name(&r, name) < 0 || with_socket(SIOCGIFFLAGS, &r) < 0) return -1;
    r.ifr_flags |= IFF_UP | IFF_RUNNING;
    return with_socket(SIOCSIFFLAGS, &r);
}

static void put_ipv4(struct sockaddr *sa, uint32_t addr) {
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = addr;
    memcpy(sa, &sin, sizeof sin);
}

int cove_if_set_ipv4(const char *name, uint32_t addr, uint32_t mask) {
    struct ifreq r;
    if (set_name(&r, name) < 0) return -1;
    put_ipv4(&r.ifr_addr, addr);
    if (with_socket(SIOCSIFADDR, &r) < 0) return -1;
    set_name(&r, name);
    put_ipv4(&r.ifr_netmask, mask);
    return with_socket(SIOCSIFNETMASK, &r);
}

int cove_if_set_mtu(const char *name, int mtu) {
    struct ifreq r;
    if (set_name(&r, name) < 0) return -1;
    r.ifr_mtu = mtu;
    return with_socket(SIOCSIFMTU, &r);
}

int cove_route_add_default(const char *name, uint32_t gateway) {
    char dev[IFNAMSIZ];
    if (strlen(name) >= IFNAMSIZ) { errno = ENAMETOOLONG; return -1; }
    strncpy(dev, name, IFNAMSIZ);
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    put_ipv4(&rt.rt_dst, 0);
    put_ipv4(&rt.rt_genmask, 0);
    put_ipv4(&rt.rt_gateway, gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    rt.rt_dev = dev;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int rc = ioctl(s, SIOCADDRT, &rt);
    int e = errno;
    close(s);
    errno = e;
    return rc;
}

int cove_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
int cove_pidfd_send_signal(int pidfd, int sig) { return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0); }

int cove_listen_unix(const char *path, int backlog) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
int cove_accept_nonblocking(int fd) {
    int c;
    do { c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); } while (c < 0 && errno == EINTR);
    return c;
}

// ---- IPv6 on the tap ------------------------------------------------------

// struct in6_ifreq of <linux/ipv6.h>, which clashes with <netinet/in.h>.
struct cove_in6_ifreq {
    struct in6_addr ifr6_addr;
    uint32_t ifr6_prefixlen;
    int ifr6_ifindex;
};

/* One IPv6 ioctl on interface `name`: an AF_INET6 socket, the interface's
 * index looked up, `fill` puts the request together, errno kept. */
static int with_ipv6_index(const char *name, unsigned long req, void *arg, void (*fill)(void *, int)) {
    struct ifreq r;
    if (set_name(&r, name) < 0) return -1;
    int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -1;
    int rc = ioctl(s, SIOCGIFINDEX, &r);
    if (rc == 0) {
        fill(arg, r.ifr_ifindex);
        rc = ioctl(s, req, arg);
    }
    int e = errno;
    close(s);
    errno = e;
    return rc;
}

static void set_addr_index(void *arg, int index) { ((struct cove_in6_ifreq *)arg)->ifr6_ifindex = index; }
static void set_route_index(void *arg, int index) { ((struct in6_rtmsg *)arg)->rtmsg_ifindex = index; }

int cove_if_set_ipv6(const char *name, const uint8_t *addr, int prefix) {
    struct cove_in6_ifreq q;
    memset(&q, 0, sizeof q);
    memcpy(&q.ifr6_addr, addr, 16);
    q.ifr6_prefixlen = (uint32_t)prefix;
    return with_ipv6_index(name, SIOCSIFADDR, &q, set_addr_index);
}

int cove_route_add_default6(const char *name, const uint8_t *gateway) {
    struct in6_rtmsg rt;
    memset(&rt, 0, sizeof rt);
    memcpy(&rt.rtmsg_gateway, gateway, 16);
    rt.rtmsg_dst_len = 0;
    rt.rtmsg_metric = 1;
    rt.rtmsg_flags = RTF_UP | RTF_GATEWAY;
    return with_ipv6_index(name, SIOCADDRT, &rt, set_route_index);
}

int cove_write_sysctl(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = strlen(value);
    ssize_t w = write(fd, value, n);
    int e = errno;
    close(fd);
    if (w != (ssize_t)n) { errno = w < 0 ? e : EIO; return -1; }
    return 0;
}

// ---- inet sockets for port forwards and DNS -----------------------------

static socklen_t to_sockaddr(const struct cove_inet_addr *a, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (a->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->addr, 16);
        s6->sin6_port = htons(a->port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    memcpy(&s4->sin_addr, a->addr, 4);
    s4->sin_port = htons(a->port);
    return sizeof *s4;
}

static void from_sockaddr(const struct sockaddr_storage *ss, struct cove_inet_addr *a) {
    memset(a, 0, sizeof *a);
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->family = AF_INET6;
        memcpy(a->addr, &s6->sin6_addr, 16);
        a->port = ntohs(s6->sin6_port);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->family = AF_INET;
        memcpy(a->addr, &s4->sin_addr, 4);
        a->port = ntohs(s4->sin_port);
    }
}

static int fail_close(int fd) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

int cove_inet_bind(int type, const struct cove_inet_addr *a, int backlog) {
    int fd = socket(a->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) return fail_close(fd);
    if (a->family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = to_sockaddr(a, &ss);
    if (bind(fd, (struct sockaddr *)&ss, len) < 0) return fail_close(fd);
    if (type == SOCK_STREAM && listen(fd, backlog) < 0) return fail_close(fd);
    return fd;
}

int cove_inet_local(int fd, struct cove_inet_addr *a) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
    from_sockaddr(&ss, a);
    return 0;
}

int cove_reuseport_steer_loopback(int fd) {
    // Offsets from the network header (SKF_NET_OFF): a reuseport program's
    // packet data starts after the transport header, the addresses lie
    // before it. Returns the index of the socket in the group.
    struct sock_filter code[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF + 0),
        /* 1 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
        /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 2, 0),
        // IPv4: the first byte of the source (offset 12) is 127.
        /* 3 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
        /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 127, 11, 12),
        // IPv6: the source (offsets 8 to 23) is ::1 or ::ffff:127.x.y.z.
        /* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 8),
        /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 10),
        /* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 12),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 8),
        /* 9 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 16),
        /* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0),
        /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffff, 2, 5),
        /* 12 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)SKF_NET_OFF + 20),
        /* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 2, 3),
        /* 14 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF + 20),
        /* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 127, 0, 1),
        /* 16 */ BPF_STMT(BPF_RET | BPF_K, 0),
        /* 17 */ BPF_STMT(BPF_RET | BPF_K, 1),
    };
    struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog);
}

int cove_inet_accept(int fd, struct cove_inet_addr *peer) {
    struct sockaddr_storage ss;
    socklen_t len;
    int c;
    do {
        len = sizeof ss;
        c = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (c < 0 && errno == EINTR);
    if (c >= 0) from_sockaddr(&ss, peer);
    return c;
}

int cove_inet_connect(int type, const struct cove_inet_addr *from, const struct cove_inet_addr *to) {
    int fd = socket(to->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    if (from) {
        int one = 1;
        // The port comes at connect, so that one address can carry many
        // flows to the same server.
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        len = to_sockaddr(from, &ss);
        if (bind(fd, (struct sockaddr *)&ss, len) < 0) return fail_close(fd);
    }
    len = to_sockaddr(to, &ss);
    int rc;
    do { rc = connect(fd, (struct sockaddr *)&ss, len); } while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) return fail_close(fd);
    return fd;
}

int cove_socket_error(int fd) {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) return errno;
    return e;
}

void cove_close_reset(int fd) {
    struct linger l = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

ssize_t cove_inet_recvfrom(int fd, void *buf, size_t len, struct cove_inet_addr *from) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    ssize_t n;
    do { n = recvfrom(fd, buf, len, 0, (struct sockaddr *)&ss, &sl); } while (n < 0 && errno == EINTR);
    if (n >= 0 && from) from_sockaddr(&ss, from);
    return n;
}

ssize_t cove_inet_sendto(int fd, const void *buf, size_t len, const struct cove_inet_addr *to) {
    struct sockaddr_storage ss;
    socklen_t sl = to_sockaddr(to, &ss);
    ssize_t n;
    do { n = sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&ss, sl); } while (n < 0 && errno == EINTR);
    return n;
}

int cove_pipe_nonblocking(int fds[2], int size) {
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0) return -1;
    // Best effort: a smaller pipe only means more turns of the loop.
    for (int s = size; s > 65536; s /= 2) {
        if (fcntl(fds[1], F_SETPIPE_SZ, s) >= 0) break;
    }
    int cap = fcntl(fds[1], F_GETPIPE_SZ);
    return cap > 0 ? cap : 65536;
}

ssize_t cove_splice(int in, int out, size_t len) {
    ssize_t n;
    do { n = splice(in, NULL, out, NULL, len, SPLICE_F_NONBLOCK | SPLICE_F_MOVE); } while (n < 0 && errno == EINTR);
    return n;
}

int cove_lowest_free_fd(void) {
    int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        // fd 0 closed: then it is the lowest free one.
        return errno == EBADF ? 0 : -1;
    }
    close(fd);
    return fd;
}

int cove_dup_onto(int from, int to) { return dup3(from, to, O_CLOEXEC); }

int cove_set_peek_offset(int fd, int offset) {
    return setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &offset, sizeof offset);
}

int cove_tcp_send_room(int fd) {
    int sndbuf = 0, queued = 0;
    socklen_t len = sizeof sndbuf;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) < 0) return -1;
    if (ioctl(fd, SIOCOUTQ, &queued) < 0) return -1;
    return sndbuf > queued ? sndbuf - queued : 0;
}

int cove_tcp_nodelay(int fd) {
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int cove_epoll_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int cove_epoll_add(int epfd, int fd, uint64_t key) {
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = key };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int cove_epoll_ready(int epfd, uint64_t *keys, uint32_t *events, int max) {
    struct epoll_event ev[64];
    if (max > 64) max = 64;
    int n;
    do { n = epoll_wait(epfd, ev, max, 0); } while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        keys[i] = ev[i].data.u64;
        events[i] = ev[i].events;
    }
    return n;
}
