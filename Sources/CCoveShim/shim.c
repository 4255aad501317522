#define _GNU_SOURCE
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include "include/cove_shim.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const int COVE_CLONE_NEWUSER = CLONE_NEWUSER;
const int COVE_CLONE_NEWNS = CLONE_NEWNS;
const int COVE_CLONE_NEWPID = CLONE_NEWPID;
const int COVE_CLONE_NEWUTS = CLONE_NEWUTS;
const int COVE_CLONE_NEWIPC = CLONE_NEWIPC;
const int COVE_CLONE_NEWNET = CLONE_NEWNET;
const int COVE_CLONE_NEWCGROUP = CLONE_NEWCGROUP;
const int COVE_CLONE_NEWTIME = CLONE_NEWTIME;

pid_t cove_clone(int flags) {
    // With a NULL stack the child continues on a copy of the parent's, as
    // after fork(). x86_64 and aarch64 take (flags, stack, ptid, ctid, tls).
    return (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
}
int cove_unshare(int flags) { return unshare(flags); }
int cove_setns(int fd, int nstype) { return setns(fd, nstype); }
// The user namespace that owns the namespace `fd` refers to, as a new fd (NS_GET_USERNS).
int cove_ns_owner(int fd) { return ioctl(fd, NS_GET_USERNS); }
int cove_sethostname(const char *name, size_t len) { return sethostname(name, len); }
int cove_setdomainname(const char *name, size_t len) { return setdomainname(name, len); }
int cove_setgroups(size_t n, const gid_t *groups) { return setgroups(n, groups); }
int cove_setresuid(uid_t r, uid_t e, uid_t s) { return setresuid(r, e, s); }
int cove_setresgid(gid_t r, gid_t e, gid_t s) { return setresgid(r, e, s); }

const unsigned long COVE_MS_RDONLY = MS_RDONLY, COVE_MS_NOSUID = MS_NOSUID,
    COVE_MS_NODEV = MS_NODEV, COVE_MS_NOEXEC = MS_NOEXEC,
    COVE_MS_SYNCHRONOUS = MS_SYNCHRONOUS, COVE_MS_REMOUNT = MS_REMOUNT,
    COVE_MS_MANDLOCK = MS_MANDLOCK, COVE_MS_DIRSYNC = MS_DIRSYNC,
    COVE_MS_NOATIME = MS_NOATIME, COVE_MS_NODIRATIME = MS_NODIRATIME,
    COVE_MS_BIND = MS_BIND, COVE_MS_MOVE = MS_MOVE, COVE_MS_REC = MS_REC,
    COVE_MS_SILENT = MS_SILENT, COVE_MS_UNBINDABLE = MS_UNBINDABLE,
    COVE_MS_PRIVATE = MS_PRIVATE, COVE_MS_SLAVE = MS_SLAVE,
    COVE_MS_SHARED = MS_SHARED, COVE_MS_RELATIME = MS_RELATIME,
    COVE_MS_STRICTATIME = MS_STRICTATIME, COVE_MS_LAZYTIME = MS_LAZYTIME;
const int COVE_MNT_DETACH = MNT_DETACH;

int cove_mount(const char *source, const char *target, const char *fstype,
               unsigned long flags, const char *data) {
    return mount(source, target, fstype, flags, data);
}
int cove_umount2(const char *target, int flags) { return umount2(target, flags); }
int cove_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}
int cove_fs_type(const char *path, long long *type) {
    struct statfs s;
    if (statfs(path, &s) != 0) return -1;
    *type = (long long)s.f_type;
    return 0;
}
int cove_has_xattr(const char *path, const char *name) {
    return getxattr(path, name, NULL, 0) > 0 ? 1 : 0;
}
int cove_mount_flags_of(const char *path, unsigned long *flags) {
    struct statvfs s;
    if (statvfs(path, &s) != 0) return -1;
    unsigned long f = 0;
    if (s.f_flag & ST_RDONLY) f |= MS_RDONLY;
    if (s.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (s.f_flag & ST_NODEV) f |= MS_NODEV;
    if (s.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (s.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (s.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (s.f_flag & ST_RELATIME) f |= MS_RELATIME;
    *flags = f;
    return 0;
}

int cove_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int cove_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int cove_set_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
int cove_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int cove_set_keepcaps(int on) { return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0); }
int cove_set_dumpable(int on) { return prctl(PR_SET_DUMPABLE, on, 0, 0, 0); }
int cove_seccomp_load(const void *filter, unsigned long len, unsigned int flags) {
    struct sock_fprog prog = {.len = (unsigned short)(len / sizeof(struct sock_filter)),
                              .filter = (struct sock_filter *)filter};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

const uint64_t COVE_RESOLVE_IN_ROOT = RESOLVE_IN_ROOT;
const uint64_t COVE_RESOLVE_NO_MAGICLINKS = RESOLVE_NO_MAGICLINKS;
const int COVE_O_PATH = O_PATH;

int cove_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    // The kernel rejects a mode without O_CREAT or O_TMPFILE.
    how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}
int cove_seqpacket_pair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
int cove_cloexec_from(int lowfd) {
    return (int)syscall(SYS_close_range, (unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC);
}
int cove_clear_cloexec(int fd) {
    int f = fcntl(fd, F_GETFD);
    if (f < 0) return -1;
    return fcntl(fd, F_SETFD, f & ~FD_CLOEXEC);
}
static int lock_file(int fd, int shared, int cmd) {
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = shared ? F_RDLCK : F_WRLCK;
    l.l_whence = SEEK_SET;
    int r;
    do { r = fcntl(fd, cmd, &l); } while (r < 0 && errno == EINTR);
    return r;
}
int cove_lock_file(int fd, int shared) { return lock_file(fd, shared, F_SETLKW); }
int cove_try_lock_file(int fd, int shared) { return lock_file(fd, shared, F_SETLK); }
int cove_memfd(const char *name) { return memfd_create(name, MFD_CLOEXEC); }
int cove_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
int cove_set_cloexec(int fd) {
    int f = fcntl(fd, F_GETFD);
    if (f < 0) return -1;
    return fcntl(fd, F_SETFD, f | FD_CLOEXEC);
}
long cove_send_packet(int sock, const void *buf, unsigned long len, int fd) {
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    memset(&u, 0, sizeof u);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0) {
        msg.msg_control = u.buf;
        msg.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    ssize_t n;
    do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n;
}
long cove_recv_packet(int sock, void *buf, unsigned long len, int *fd) {
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } u;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
    *fd = -1;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return n;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(fd, CMSG_DATA(c), sizeof(int));
    return n;
}
static void fill_set(sigset_t *set, const int *sigs, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, sigs[i]);
}
int cove_block_signals(const int *sigs, int count) {
    sigset_t set;
    fill_set(&set, sigs, count);
    return sigprocmask(SIG_BLOCK, &set, NULL);
}
int cove_unblock_all_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    return sigprocmask(SIG_SETMASK, &set, NULL);
}
int cove_wait_signal_info(const int *sigs, int count, int *from_kernel) {
    sigset_t set;
    fill_set(&set, sigs, count);
    siginfo_t info;
    int r;
    do { r = sigwaitinfo(&set, &info); } while (r < 0 && errno == EINTR);
    if (r > 0 && from_kernel) *from_kernel = info.si_code == SI_KERNEL;
    return r;
}

int cove_wait_signal(const int *sigs, int count) {
    sigset_t set;
    fill_set(&set, sigs, count);
    int r;
    do { r = sigwaitinfo(&set, NULL); } while (r < 0 && errno == EINTR);
    return r;
}
