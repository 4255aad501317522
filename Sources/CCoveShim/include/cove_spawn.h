#ifndef COVE_SPAWN_H
#define COVE_SPAWN_H
#include <sys/types.h>

/// posix_spawn with fds placed (child_fd[i] gets parent_fd[i]), signals
/// reset to default and unblocked, optionally a new session and a working
/// directory. Safe in a multithreaded process. Returns 0 or an errno
/// (a failed exec included).
int cove_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
               const int *child_fd, const int *parent_fd, int nfds, int new_session, const char *cwd);

/// Installs handlers (every thread) that write two bytes per signal to
/// `write_fd`: the number, then 1 when the kernel sent it (SI_KERNEL).
int cove_relay_signals(const int *sigs, int count, int write_fd);
/// Puts the default actions back.
int cove_restore_signals(const int *sigs, int count);

#endif
