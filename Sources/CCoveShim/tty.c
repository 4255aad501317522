#define _GNU_SOURCE
#include "include/cove_tty.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int cove_open_pty(char *name, unsigned long len) {
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0) return -1;
    if (grantpt(m) != 0 || unlockpt(m) != 0 || ptsname_r(m, name, len) != 0) {
        int e = errno;
        close(m);
        errno = e;
        return -1;
    }
    return m;
}
int cove_set_controlling_tty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
int cove_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize w = {.ws_row = rows, .ws_col = cols};
    return ioctl(fd, TIOCSWINSZ, &w);
}
int cove_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize w;
    if (ioctl(fd, TIOCGWINSZ, &w) != 0) return -1;
    *rows = w.ws_row;
    *cols = w.ws_col;
    return 0;
}
unsigned long cove_termios_size(void) { return sizeof(struct termios); }
int cove_make_raw(int fd, void *saved) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    memcpy(saved, &t, sizeof t);
    cfmakeraw(&t);
    return tcsetattr(fd, TCSANOW, &t);
}
int cove_restore_termios(int fd, const void *saved) {
    return tcsetattr(fd, TCSANOW, (const struct termios *)saved);
}
int cove_signalfd(const int *sigs, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, sigs[i]);
    return signalfd(-1, &set, SFD_CLOEXEC);
}
int cove_read_signalfd(int fd) {
    struct signalfd_siginfo si;
    ssize_t n;
    do { n = read(fd, &si, sizeof si); } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof si ? (int)si.ssi_signo : -1;
}
int cove_connect_unix(const char *path) {
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) { errno = ENAMETOOLONG; return -1; }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
