#ifndef COVE_NET_H
#define COVE_NET_H
#include <stdint.h>
#include <sys/types.h>

/// Opens /dev/net/tun and attaches a tap device `name` (IFF_TAP|IFF_NO_PI),
/// close-on-exec and non-blocking; returns the fd.
int cove_tap_open(const char *name);
/// Sets IFF_UP on the interface `name`.
int cove_if_up(const char *name);
/// IPv4 address and netmask (network byte order) of interface `name`.
int cove_if_set_ipv4(const char *name, uint32_t addr, uint32_t mask);
int cove_if_set_mtu(const char *name, int mtu);
/// A default route via gateway (network byte order) out of `name`.
int cove_route_add_default(const char *name, uint32_t gateway);
/// pidfd_open(2): an fd that polls readable when `pid` exits.
int cove_pidfd_open(pid_t pid);
/// A listening SOCK_STREAM unix socket at path, non-blocking, close-on-exec.
int cove_listen_unix(const char *path, int backlog);
/// accept4 with SOCK_NONBLOCK|SOCK_CLOEXEC; -1 with EAGAIN when none waits.
int cove_accept_nonblocking(int fd);
#endif
