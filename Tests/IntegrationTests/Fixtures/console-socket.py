#!/usr/bin/env python3
"""A console-socket receiver, as podman's conmon is one: listen on a unix
socket, take the pty master sent with SCM_RIGHTS, copy what the container
writes to a file until the terminal closes. Bounded by a timeout."""
import os, socket, sys, select, time

path, out, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 30
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
s.settimeout(timeout)
conn, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(conn, 16, 1)
master = fds[0]
deadline = time.time() + timeout
with open(out, "wb") as f:
    os.write(master, b"typed-in\n")
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if not r:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        f.write(data)
        f.flush()
