#ifndef COVE_NS_H
#define COVE_NS_H
#include <sys/types.h>

// Flags as the kernel spells them, for Swift.
extern const int COVE_CLONE_NEWUSER;
extern const int COVE_CLONE_NEWNS;
extern const int COVE_CLONE_NEWPID;
extern const int COVE_CLONE_NEWUTS;
extern const int COVE_CLONE_NEWIPC;
extern const int COVE_CLONE_NEWNET;
extern const int COVE_CLONE_NEWCGROUP;
extern const int COVE_CLONE_NEWTIME;

/// fork() through the raw clone syscall with extra namespace flags; returns
/// like fork. No atfork handlers run: callers are single-threaded.
pid_t cove_clone(int flags);
int cove_unshare(int flags);
int cove_setns(int fd, int nstype);
int cove_ns_owner(int fd);
int cove_sethostname(const char *name, size_t len);
int cove_setdomainname(const char *name, size_t len);
int cove_setgroups(size_t n, const gid_t *groups);
int cove_setresuid(uid_t r, uid_t e, uid_t s);
int cove_setresgid(gid_t r, gid_t e, gid_t s);
#endif
