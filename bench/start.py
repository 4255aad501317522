#!/usr/bin/env python3
"""Start-time benchmark: one busybox bundle, each runtime `run`s `true`,
interleaved round by round; prints median/min/max in ms and ratios."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cove", required=True)
p.add_argument("--runs", type=int, default=30)
a = p.parse_args()

work = tempfile.mkdtemp(prefix="cove-bench-start-")
bundle = os.path.join(work, "bundle")
rootfs = os.path.join(bundle, "rootfs")
os.makedirs(os.path.join(rootfs, "bin"))
for d in ("proc", "sys", "dev", "tmp", "etc"):
    os.makedirs(os.path.join(rootfs, d))
shutil.copy("/bin/busybox", os.path.join(rootfs, "bin/busybox"))
for applet in ("sh", "true"):
    os.symlink("busybox", os.path.join(rootfs, "bin", applet))
subprocess.run([a.cove, "spec", "--rootless"], cwd=bundle, check=True)
cfg = json.load(open(os.path.join(bundle, "config.json")))
cfg["process"]["args"] = ["/bin/true"]
cfg["process"]["terminal"] = False
# Debian 12's crun 1.8 refuses versions newer than it knows; every runtime here accepts 1.0.2.
cfg["ociVersion"] = "1.0.2"
json.dump(cfg, open(os.path.join(bundle, "config.json"), "w"), indent=1)

def state_dir(name):
    d = os.path.join(work, "state-" + name)
    os.makedirs(d, exist_ok=True)
    return d

counter = [0]
def next_id():
    counter[0] += 1
    return "b%d" % counter[0]

candidates = {
    "cove-unshare": lambda: [a.cove, "--root", state_dir("cove"), "run", "--bundle", bundle, next_id()],
    "crun": lambda: ["crun", "--root", state_dir("crun"), "run", "--bundle", bundle, next_id()],
    "runc": lambda: ["runc", "--root", state_dir("runc"), "run", "--bundle", bundle, next_id()],
    "bwrap": lambda: ["bwrap", "--unshare-all", "--uid", "0", "--gid", "0", "--bind", rootfs, "/",
                      "--proc", "/proc", "--dev", "/dev", "/bin/true"],
    "unshare -Urmpf": lambda: ["unshare", "-Urmpf", "--mount-proc", "true"],
    # The cost of starting the programs at all, no container.
    "cove-unshare --version": lambda: [a.cove, "--version"],
    "crun --version": lambda: ["crun", "--version"],
}

def once(argv):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return (time.perf_counter() - t) * 1000, r

usable, why = {}, {}
for name, make in candidates.items():
    if shutil.which(make()[0]) is None:
        why[name] = "not installed"
        continue
    _, r = once(make())  # warm up, and check it works here
    if r.returncode != 0:
        why[name] = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["exit %d" % r.returncode]
        why[name] = why[name][0]
        continue
    usable[name] = make

times = {n: [] for n in usable}
for _ in range(a.runs):
    for name, make in usable.items():
        ms, r = once(make())
        if r.returncode == 0:
            times[name].append(ms)

print("start of `true` in a busybox bundle, rootless, %d interleaved runs each" % a.runs)
print("%-24s %9s %9s %9s" % ("runtime", "median", "min", "max"))
for name, ts in times.items():
    if ts:
        print("%-24s %7.1f ms %6.1f ms %6.1f ms" % (name, statistics.median(ts), min(ts), max(ts)))
for name, reason in why.items():
    print("%-24s failed here: %s" % (name, reason))
med = {n: statistics.median(t) for n, t in times.items() if t}
if "cove-unshare" in med:
    for peer in ("crun", "runc", "bwrap"):
        if peer in med:
            print("ratio cove-unshare/%s: %.2f" % (peer, med["cove-unshare"] / med[peer]))
shutil.rmtree(work, ignore_errors=True)
