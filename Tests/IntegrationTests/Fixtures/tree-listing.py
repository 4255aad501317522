#!/usr/bin/env python3
"""Prints one line per path under ROOT: name, type, mode, owner, link
target or content digest, and link count for files; sorted. Run inside the
user namespace so owners read as the container sees them."""
import hashlib, os, stat, sys

root = sys.argv[1]
lines = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        st = os.lstat(p)
        rel = os.path.relpath(p, root)
        m = st.st_mode
        if stat.S_ISDIR(m): kind, extra = "dir", ""
        elif stat.S_ISLNK(m): kind, extra = "symlink", os.readlink(p)
        elif stat.S_ISREG(m):
            kind = "file"
            with open(p, "rb") as f:
                extra = hashlib.sha256(f.read()).hexdigest()[:16] + " links=%d" % st.st_nlink
        elif stat.S_ISFIFO(m): kind, extra = "fifo", ""
        elif stat.S_ISCHR(m): kind, extra = "char", "%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
        else: kind, extra = "other", ""
        lines.append(("%s %s %o %d:%d %s" % (rel, kind, stat.S_IMODE(m), st.st_uid, st.st_gid, extra)).rstrip())
print("\n".join(sorted(lines)))
