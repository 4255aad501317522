#ifndef COVE_FILES_H
#define COVE_FILES_H
#include <sys/types.h>
#include <stdint.h>

// What cove-fs needs for layers that Swift's Glibc does not expose.
extern const uint64_t COVE_RESOLVE_BENEATH;
extern const uint64_t COVE_RESOLVE_NO_SYMLINKS;

/// An overlay whiteout: a character device 0/0 named `name` in dirfd. The
/// kernel allows this one device node without CAP_MKNOD (Linux 5.8).
int cove_mknod_whiteout(int dirfd, const char *name);
/// Whether st_rdev is device 0/0 (a whiteout when the inode is a char device).
int cove_rdev_is_zero(unsigned long long rdev);
int cove_fsetxattr(int fd, const char *name, const void *value, size_t size);
long cove_fgetxattr(int fd, const char *name, void *value, size_t size);
long cove_flistxattr(int fd, char *list, size_t size);
long cove_lgetxattr(const char *path, const char *name, void *value, size_t size);
/// FICLONE: dst shares src's blocks (a reflink).
int cove_ficlone(int dst, int src);
long cove_copy_file_range(int in, int out, size_t len);
int cove_syncfs(int fd);
/// renameat2 with RENAME_NOREPLACE: EEXIST when the target exists.
int cove_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
/// Sets FS_TOPDIR_FL (chattr +T) on the directory fd, if not set: -1 with
/// errno where the filesystem has no such flag (ENOTTY, EOPNOTSUPP).
int cove_set_topdir(int fd);
#endif
