#define _GNU_SOURCE
#include "include/cove_net.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/route.h>
#include <netinet/in.h>
#include <string.h>
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
