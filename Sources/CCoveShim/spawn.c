#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
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

/* Signals relayed through a pipe: a handler any thread may run writes the
 * signal number and whether the kernel sent it (a terminal's ^C) to the
 * pipe; the waiting thread polls it. Works whatever the threads' masks. */
#include <unistd.h>
static volatile int cove_relay_fd = -1;

static void cove_relay_handler(int sig, siginfo_t *info, void *ctx) {
    (void)ctx;
    int saved = errno;
    unsigned char b[2] = { (unsigned char)sig, (unsigned char)(info && info->si_code == SI_KERNEL) };
    if (cove_relay_fd >= 0) { ssize_t r = write(cove_relay_fd, b, 2); (void)r; }
    errno = saved;
}

int cove_relay_signals(const int *sigs, int count, int write_fd) {
    cove_relay_fd = write_fd;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = cove_relay_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < count; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0) return -1;
    return 0;
}

int cove_restore_signals(const int *sigs, int count) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < count; i++) sigaction(sigs[i], &sa, NULL);
    cove_relay_fd = -1;
    return 0;
}
