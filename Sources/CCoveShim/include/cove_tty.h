#ifndef COVE_TTY_H
#define COVE_TTY_H
/// Opens a new pty master from /dev/ptmx as the caller's mount namespace
/// resolves it; writes the slave's path into name (size len).
int cove_open_pty(char *name, unsigned long len);
/// Makes fd (a tty) the caller's controlling terminal (after setsid).
int cove_set_controlling_tty(int fd);
int cove_set_winsize(int fd, unsigned short rows, unsigned short cols);
int cove_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
/// Raw mode on fd, saving the old settings in an opaque buffer (size
/// cove_termios_size()); restore with cove_restore_termios.
unsigned long cove_termios_size(void);
int cove_make_raw(int fd, void *saved);
int cove_restore_termios(int fd, const void *saved);
/// A signalfd for the listed (already blocked) signals, close-on-exec.
int cove_signalfd(const int *sigs, int count);
/// Reads one signal number from a signalfd, or -1.
int cove_read_signalfd(int fd);
/// Connects a SOCK_STREAM unix socket to path; returns the fd.
int cove_connect_unix(const char *path);
#endif
