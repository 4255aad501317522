#ifndef COVE_FD_H
#define COVE_FD_H
#include <sys/types.h>
#include <stdint.h>

extern const uint64_t COVE_RESOLVE_IN_ROOT;
extern const uint64_t COVE_RESOLVE_NO_MAGICLINKS;
extern const int COVE_O_PATH;

/// openat2(2): path resolution confined by resolve flags.
int cove_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve);
/// A SOCK_SEQPACKET pair, both ends close-on-exec.
int cove_seqpacket_pair(int fds[2]);
/// Marks every fd >= lowfd close-on-exec (close_range with CLOSE_RANGE_CLOEXEC).
int cove_cloexec_from(int lowfd);
/// Clear FD_CLOEXEC on fd.
int cove_clear_cloexec(int fd);
int cove_set_cloexec(int fd);
/// Waits for a POSIX lock on the whole file: a write lock, or with shared a
/// read lock (the fd must then be open for reading). Such a lock belongs to
/// the process: a forked child does not inherit it (flock's would be).
int cove_lock_file(int fd, int shared);
/// As cove_lock_file without waiting: -1 with EAGAIN or EACCES when held.
int cove_try_lock_file(int fd, int shared);
/// memfd_create(name, MFD_CLOEXEC).
int cove_memfd(const char *name);
/// pipe2(fds, O_CLOEXEC).
int cove_pipe_cloexec(int fds[2]);
/// One packet with an optional fd attached (fd < 0: none).
long cove_send_packet(int sock, const void *buf, unsigned long len, int fd);
/// One packet; *fd receives an attached fd or -1. Returns the length.
long cove_recv_packet(int sock, void *buf, unsigned long len, int *fd);
/// Block the listed signals (count entries) and return 0; used before sigwaitinfo.
int cove_block_signals(const int *sigs, int count);
int cove_unblock_all_signals(void);
/// Wait for one of the blocked signals; returns the signal number.
int cove_wait_signal(const int *sigs, int count);
/// As cove_wait_signal; *from_kernel is 1 when the kernel sent it (a
/// terminal's ^C, a hangup), 0 when a process did (kill(2)).
int cove_wait_signal_info(const int *sigs, int count, int *from_kernel);
#endif
