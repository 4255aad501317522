#!/usr/bin/env python3
"""File system benchmark: one busybox image with two directories of 5,000
small files; in a fresh container of it each round: create 5,000 files,
touch 5,000 image files, delete 5,000 image files, find / (-xdev). Timed
inside the container (a static clock_gettime printer, /bin/now, around the
work, so start-up is not in it), for cove with the overlay and fuse-overlayfs drivers and for podman
with its own storage.conf (graphroot in a temporary directory) on native
overlay and on fuse-overlayfs (mount_program). Configurations run round
by round, interleaved. Then `create` of a container from the loaded image:
cove create against podman create. Prints medians in ms and ratios.
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--bin", required=True)
p.add_argument("--runs", type=int, default=5)
p.add_argument("--dir", default=None, help="where the stores go (default: a new directory in /var/tmp)")
a = p.parse_args()
work = tempfile.mkdtemp(prefix="cove-bench-fs-", dir=a.dir or "/var/tmp")
cove_bin = os.path.join(a.bin, "cove")
IMAGE = "localhost/cove-bench-fs:latest"
N = 5000


def run(args, env=None, check=True, timeout=600):
    r = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(args), r.stderr.strip()))
    return r


def make_rootfs(d):
    for sub in ["bin", "etc", "tmp", "proc", "sys", "dev", "root", "data/touch", "data/delete"]:
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.copy2("/bin/busybox", os.path.join(d, "bin/busybox"))
    for applet in run(["/bin/busybox", "--list"]).stdout.split():
        if applet != "busybox":
            os.symlink("busybox", os.path.join(d, "bin", applet))
    # busybox's date has no %N: a static clock_gettime(CLOCK_MONOTONIC) printer.
    src = os.path.join(work, "now.c")
    with open(src, "w") as f:
        f.write('#include <stdio.h>\n#include <time.h>\nint main(void){struct timespec t;'
                'clock_gettime(CLOCK_MONOTONIC,&t);printf("%lld\\n",(long long)t.tv_sec*1000000000LL+t.tv_nsec);'
                'return 0;}\n')
    run(["cc", "-static", "-O2", "-o", os.path.join(d, "bin/now"), src])
    with open(os.path.join(d, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    for sub in ["touch", "delete"]:
        for i in range(N):
            with open(os.path.join(d, "data", sub, "f%d" % i), "w") as f:
                f.write("x" * 100)


def fs_type(path):
    return run(["stat", "-f", "-c", "%T", path]).stdout.strip()


# Each workload: shell run inside the container; it prints nanoseconds.
WORK = {
    "create 5,000 files": "mkdir /new; i=0; while [ $i -lt %d ]; do : > /new/f$i; i=$((i+1)); done" % N,
    "touch 5,000 image files": "cd /data/touch && touch f*",
    "delete 5,000 image files": "cd /data/delete && rm f*",
    "find /": "find / -xdev > /dev/null",
}


def timed(script):
    return "a=$(now); %s; b=$(now); echo $((b-a))" % script


def main():
    rootfs = os.path.join(work, "rootfs")
    make_rootfs(rootfs)
    tar = os.path.join(work, "rootfs.tar")
    run(["tar", "--owner=0", "--group=0", "-C", rootfs, "-cf", tar, "."])
    shutil.rmtree(rootfs)

    # podman: each driver its own storage.conf and graphroot.
    podmans = {}
    for name, extra in [("podman overlay", ""),
                        ("podman fuse-overlayfs", '[storage.options.overlay]\nmount_program = "/usr/bin/fuse-overlayfs"\n')]:
        d = os.path.join(work, name.replace(" ", "-"))
        os.makedirs(d)
        conf = os.path.join(d, "storage.conf")
        # Rootless podman reads rootless_storage_path, not graphroot; its
        # database (static_dir) would otherwise pin the user's own driver.
        with open(conf, "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s/graph"\nrootless_storage_path = "%s/graph"\n'
                    'runroot = "%s/run"\n%s' % (d, d, d, extra))
        engine = os.path.join(d, "containers.conf")
        with open(engine, "w") as f:
            f.write('[engine]\nstatic_dir = "%s/libpod"\ntmp_dir = "%s/tmp"\nvolume_path = "%s/volumes"\n' % (d, d, d))
        os.makedirs(os.path.join(d, "xdg"), mode=0o700)
        env = dict(os.environ, CONTAINERS_STORAGE_CONF=conf, CONTAINERS_CONF=engine, XDG_RUNTIME_DIR=os.path.join(d, "xdg"))
        info = run(["podman", "info", "--format", "{{.Store.GraphDriverName}} {{.Store.GraphRoot}} {{.Store.GraphOptions}}"],
                   env=env).stdout.strip()
        if not info.startswith("overlay " + d) or (bool(extra) != ("fuse-overlayfs" in info)):
            sys.exit("podman did not take its storage.conf for %s: %s" % (name, info))
        run(["podman", "import", "--change", "ENV=PATH=/bin", tar, IMAGE], env=env)
        podmans[name] = env
    oci = os.path.join(work, "image.tar")
    run(["podman", "save", "--format", "oci-archive", "-o", oci, IMAGE], env=podmans["podman overlay"])
    cove_root = os.path.join(work, "cove")
    cove = [cove_bin, "--root", cove_root + "/root", "--runroot", cove_root + "/run"]
    run(cove + ["load", "-i", oci])
    # The same layer cache for both cove drivers: unpack once before timing.
    run(cove + ["run", "--rm", "--network", "none", IMAGE, "true"])

    configs = {
        "cove overlay": lambda s: cove + ["--storage-driver", "overlay", "run", "--rm", "--network", "none", IMAGE, "sh", "-c", s],
        "cove fuse-overlayfs": lambda s: cove + ["--storage-driver", "fuse-overlayfs", "run", "--rm", "--network", "none",
                                                 IMAGE, "sh", "-c", s],
        "podman overlay": lambda s: ["podman", "run", "--rm", "--network", "none", "--pull", "never", IMAGE, "sh", "-c", s],
        "podman fuse-overlayfs": lambda s: ["podman", "run", "--rm", "--network", "none", "--pull", "never", IMAGE,
                                            "sh", "-c", s],
    }
    envs = {k: podmans.get(k) for k in configs}
    times = {(c, w): [] for c in configs for w in WORK}
    for _ in range(a.runs):
        for w, script in WORK.items():
            for c, argv in configs.items():
                r = run(argv(timed(script)), env=envs[c])
                times[(c, w)].append(int(r.stdout.strip().splitlines()[-1]) / 1e6)

    # Creating a container from the loaded image, interleaved.
    create = {"cove create": [], "podman create (overlay)": []}
    for i in range(a.runs):
        t = time.monotonic()
        cid = run(cove + ["create", "--network", "none", IMAGE, "true"]).stdout.strip()
        create["cove create"].append((time.monotonic() - t) * 1000)
        run(cove + ["rm", cid])
        t = time.monotonic()
        cid = run(["podman", "create", "--network", "none", "--pull", "never", IMAGE, "true"],
                  env=podmans["podman overlay"]).stdout.strip()
        create["podman create (overlay)"].append((time.monotonic() - t) * 1000)
        run(["podman", "rm", cid], env=podmans["podman overlay"])

    print("stores in %s (%s); %d runs each, interleaved; medians in ms (timed inside the container)"
          % (work, fs_type(work), a.runs))
    names = list(configs)
    print("%-26s" % "work" + "".join("%22s" % n for n in names) + "%16s%16s" % ("cove/podman ovl", "cove/podman fuse"))
    for w in WORK:
        m = [statistics.median(times[(c, w)]) for c in names]
        print("%-26s" % w + "".join("%22.1f" % x for x in m) + "%16.2f%16.2f" % (m[0] / m[2], m[1] / m[3]))
    cm, pm = statistics.median(create["cove create"]), statistics.median(create["podman create (overlay)"])
    print("%-26s%22.1f%22s%22.1f%22s%16.2f" % ("create a container", cm, "", pm, "", cm / pm))


try:
    main()
finally:
    # podman's and cove's stores hold files of subordinate ids.
    for d in os.listdir(work):
        full = os.path.join(work, d)
        if d.startswith("podman-") and os.path.isdir(full):
            subprocess.run(["podman", "system", "reset", "-f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(os.environ, CONTAINERS_STORAGE_CONF=os.path.join(full, "storage.conf"),
                                    CONTAINERS_CONF=os.path.join(full, "containers.conf"),
                                    XDG_RUNTIME_DIR=os.path.join(full, "xdg")), timeout=300)
    subprocess.run(["podman", "unshare", "rm", "-rf", work], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=300)
    shutil.rmtree(work, ignore_errors=True)
