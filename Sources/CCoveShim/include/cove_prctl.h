#ifndef COVE_PRCTL_H
#define COVE_PRCTL_H
int cove_set_child_subreaper(void);
int cove_set_pdeathsig(int sig);
int cove_set_name(const char *name);
int cove_set_no_new_privs(void);
int cove_set_keepcaps(int on);
int cove_set_dumpable(int on);
/// Loads a classic BPF seccomp filter (len bytes of struct sock_filter).
int cove_seccomp_load(const void *filter, unsigned long len, unsigned int flags);
#endif
