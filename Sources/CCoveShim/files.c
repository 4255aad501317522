#define _GNU_SOURCE
#include "include/cove_files.h"
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

const uint64_t COVE_RESOLVE_BENEATH = RESOLVE_BENEATH;
const uint64_t COVE_RESOLVE_NO_SYMLINKS = RESOLVE_NO_SYMLINKS;

int cove_mknod_whiteout(int dirfd, const char *name) {
    return mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0));
}
int cove_rdev_is_zero(unsigned long long rdev) { return major(rdev) == 0 && minor(rdev) == 0; }
int cove_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}
long cove_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}
long cove_flistxattr(int fd, char *list, size_t size) { return flistxattr(fd, list, size); }
long cove_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}
int cove_ficlone(int dst, int src) { return ioctl(dst, FICLONE, src); }
long cove_copy_file_range(int in, int out, size_t len) {
    return (long)copy_file_range(in, NULL, out, NULL, len, 0);
}
int cove_syncfs(int fd) { return syncfs(fd); }
int cove_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}
int cove_set_topdir(int fd) {
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return -1;
    if (flags & FS_TOPDIR_FL) return 0;
    flags |= FS_TOPDIR_FL;
    return ioctl(fd, FS_IOC_SETFLAGS, &flags);
}
