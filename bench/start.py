#!/usr/bin/env python3
"""Start-time benchmark: one busybox bundle, each runtime `run`s `true`,
interleaved round by round; prints median/min/max in ms and ratios."""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cove", required=True)
p.add_argument("--runs", type=int, default=30)
p.add_argument("--front", help="the cove front binary: adds the cove run / podman run rows")
p.add_argument("--rows", default="all", choices=["all", "runtime", "front"],
               help="runtime: cove-unshare against crun, runc, bwrap; front: cove run against podman run")
a = p.parse_args()
if a.rows != "runtime" and not a.front:
    p.error("--front is needed for the front rows")

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

def podman_seccomp():
    """linux.seccomp exactly as podman writes it into an OCI config: podman
    creates a container from a busybox image with cove-unshare as runtime."""
    if shutil.which("podman") is None:
        return None, "podman not installed"
    tar = os.path.join(work, "image.tar")
    subprocess.run(["tar", "--owner=0", "--group=0", "-C", rootfs, "-cf", tar, "."], check=True)
    image = "localhost/cove-bench-busybox:latest"
    r = subprocess.run(["podman", "import", "--change", "ENV=PATH=/bin", tar, image], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "podman import: " + r.stderr.strip()[-200:]
    rt = ["--runtime", a.cove]
    cid = subprocess.run(["podman"] + rt + ["create", "--pull=never", "--network=none", image, "true"],
                         capture_output=True, text=True).stdout.strip()
    subprocess.run(["podman"] + rt + ["init", cid], capture_output=True)
    home = os.path.expanduser("~/.local/share/containers/storage")
    found = None
    for root, dirs, files in os.walk(home):
        if cid in root and root.endswith("userdata") and "config.json" in files:
            found = os.path.join(root, "config.json")
            break
    profile = json.load(open(found))["linux"].get("seccomp") if found else None
    subprocess.run(["podman"] + rt + ["rm", "-f", cid], capture_output=True)
    return (profile, None) if profile else (None, "no seccomp profile in podman's config")

def state_dir(name):
    d = os.path.join(work, "state-" + name)
    os.makedirs(d, exist_ok=True)
    return d

counter = [0]
def next_id():
    counter[0] += 1
    return "b%d" % counter[0]

sec_profile, sec_why = podman_seccomp() if a.rows != "front" else (None, "not measured")
sec_bundle = os.path.join(work, "bundle-seccomp")
if sec_profile:
    os.makedirs(sec_bundle)
    os.symlink(rootfs, os.path.join(sec_bundle, "rootfs"))
    c2 = json.loads(json.dumps(cfg))
    c2["linux"]["seccomp"] = sec_profile
    json.dump(c2, open(os.path.join(sec_bundle, "config.json"), "w"), indent=1)

def cove_cold():
    shutil.rmtree(os.path.join(state_dir("cove-sec-cold"), "seccomp"), ignore_errors=True)
    return [a.cove, "--root", state_dir("cove-sec-cold"), "run", "--bundle", sec_bundle, next_id()]

candidates = {
    "cove-unshare": lambda: [a.cove, "--root", state_dir("cove"), "run", "--bundle", bundle, next_id()],
    "crun": lambda: ["crun", "--root", state_dir("crun"), "run", "--bundle", bundle, next_id()],
    "runc": lambda: ["runc", "--root", state_dir("runc"), "run", "--bundle", bundle, next_id()],
    "bwrap": lambda: ["bwrap", "--unshare-all", "--uid", "0", "--gid", "0", "--bind", rootfs, "/",
                      "--proc", "/proc", "--dev", "/dev", "/bin/true"],
    "unshare -Urmpf": lambda: ["unshare", "-Urmpf", "--mount-proc", "true"],
    # With podman's default seccomp profile, as podman writes it.
    "cove-unshare +seccomp warm": lambda: [a.cove, "--root", state_dir("cove-sec"), "run", "--bundle", sec_bundle, next_id()],
    "cove-unshare +seccomp 1st": cove_cold,
    "crun +seccomp": lambda: ["crun", "--root", state_dir("crun-sec"), "run", "--bundle", sec_bundle, next_id()],
    # The cost of starting the programs at all, no container.
    "cove-unshare --version": lambda: [a.cove, "--version"],
    "crun --version": lambda: ["crun", "--version"],
}

def once(argv):
    t = time.perf_counter()
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return (time.perf_counter() - t) * 1000, r

if a.rows == "front":
    candidates = {}
front = None
if a.rows != "runtime":
    import front_rows
    front = front_rows.FrontRows(a.front, rootfs, work)
    candidates.update(front.candidates())

usable, why = {}, {}
for name, make in candidates.items():
    if "seccomp" in name and not sec_profile:
        why[name] = sec_why
        continue
    argv = make()
    if shutil.which(argv[0]) is None:
        why[name] = "not installed"
        continue
    _, r = once(argv)  # warm up, and check it works here
    if r.returncode != 0:
        why[name] = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["exit %d" % r.returncode]
        why[name] = why[name][0]
        continue
    usable[name] = make

times = {n: [] for n in usable}
failed = {n: 0 for n in usable}
for _ in range(a.runs):
    for name, make in usable.items():
        ms, r = once(make())
        if r.returncode == 0:
            times[name].append(ms)
        else:
            failed[name] += 1
    if front:
        for name, ms in front.lifecycle_round().items():
            times.setdefault(name, []).append(ms)

print("start of `true` in a busybox bundle, rootless, %d interleaved runs each" % a.runs)
print("%-28s %9s %9s %9s" % ("runtime", "median", "min", "max"))
for name, ts in times.items():
    if ts:
        print("%-28s %7.1f ms %6.1f ms %6.1f ms" % (name, statistics.median(ts), min(ts), max(ts)))
for name, reason in why.items():
    print("%-28s failed here: %s" % (name, reason))
for name, n in failed.items():
    if n:
        print("%-28s failed %d of %d runs (not counted)" % (name, n, a.runs))
med = {n: statistics.median(t) for n, t in times.items() if t}
if "cove-unshare" in med:
    for peer in ("crun", "runc", "bwrap"):
        if peer in med:
            print("ratio cove-unshare/%s: %.2f" % (peer, med["cove-unshare"] / med[peer]))
for variant in ("cove-unshare +seccomp warm", "cove-unshare +seccomp 1st"):
    if variant in med and "crun +seccomp" in med:
        print("ratio %s / crun +seccomp: %.2f" % (variant, med[variant] / med["crun +seccomp"]))
if front:
    front.print_ratios(med)
    front.cleanup()
shutil.rmtree(work, ignore_errors=True)
