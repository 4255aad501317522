#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include "cove_spawn.h"

int cove_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
               const int *child_fd, const int *parent_fd, int nfds, int new_session, const char *cwd) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc) return rc;
    rc = posix_spawnattr_init(&attr);
    if (rc) { posix_spawn_file_actions_destroy(&fa); return rc; }
    for (int i = 0; i < nfds && !rc; i++) {
        if (child_fd[i] == parent_fd[i]) {
            /* dup2 onto itself keeps FD_CLOEXEC: hop through a spare number. */
            int spare = 1000 + child_fd[i];
            rc = posix_spawn_file_actions_adddup2(&fa, parent_fd[i], spare);
            if (!rc) rc = posix_spawn_file_actions_adddup2(&fa, spare, child_fd[i]);
            if (!rc) rc = posix_spawn_file_actions_addclose(&fa, spare);
        } else {
            rc = posix_spawn_file_actions_adddup2(&fa, parent_fd[i], child_fd[i]);
        }
    }
    if (!rc && cwd) rc = posix_spawn_file_actions_addchdir_np(&fa, cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_session) flags |= POSIX_SPAWN_SETSID;
    if (!rc) rc = posix_spawnattr_setflags(&attr, flags);
    if (!rc) rc = posix_spawnattr_setsigmask(&attr, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) rc = posix_spawn(pid, path, &fa, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}
