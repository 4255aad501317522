#ifndef COVE_MOUNT_H
#define COVE_MOUNT_H
#include <sys/types.h>

extern const unsigned long COVE_MS_RDONLY, COVE_MS_NOSUID, COVE_MS_NODEV,
    COVE_MS_NOEXEC, COVE_MS_SYNCHRONOUS, COVE_MS_REMOUNT, COVE_MS_MANDLOCK,
    COVE_MS_DIRSYNC, COVE_MS_NOATIME, COVE_MS_NODIRATIME, COVE_MS_BIND,
    COVE_MS_MOVE, COVE_MS_REC, COVE_MS_SILENT, COVE_MS_UNBINDABLE,
    COVE_MS_PRIVATE, COVE_MS_SLAVE, COVE_MS_SHARED, COVE_MS_RELATIME,
    COVE_MS_STRICTATIME, COVE_MS_LAZYTIME;
extern const int COVE_MNT_DETACH;

int cove_mount(const char *source, const char *target, const char *fstype,
               unsigned long flags, const char *data);
int cove_umount2(const char *target, int flags);
int cove_pivot_root(const char *new_root, const char *put_old);
/// The statfs(2) f_type of the filesystem holding path.
int cove_fs_type(const char *path, long long *type);
/// 1 when path carries the extended attribute name, else 0.
int cove_has_xattr(const char *path, const char *name);
/// Mount flags of the filesystem holding path, as MS_* bits (statvfs).
int cove_mount_flags_of(const char *path, unsigned long *flags);
#endif
