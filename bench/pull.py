#!/usr/bin/env python3
"""Pull benchmark: one image in a local docker-registry on 127.0.0.1; each
tool pulls it into fresh storage, round by round, interleaved; prints
median/min/max in seconds and ratios to cove.

The image: 3 gzip layers, about 55 MB: 50 files of 1 MiB random data,
5,000 small files, and a few text files. cove pull, podman pull and umoci
unpack the layers; skopeo copy alone does not (the fetch without unpack).
"""
import argparse, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("--cove", required=True)
p.add_argument("--runs", type=int, default=5)
a = p.parse_args()
here = os.path.dirname(os.path.abspath(__file__))
fixture = os.path.join(here, "..", "Tests", "IntegrationTests", "Fixtures", "oci-image.py")
work = tempfile.mkdtemp(prefix="cove-bench-pull-")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


port = free_port()
with open(os.path.join(work, "registry.yml"), "w") as f:
    f.write("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
            "storage:\n  filesystem:\n    rootdirectory: %s/storage\n"
            "http:\n  addr: 127.0.0.1:%d\n" % (work, port))
registry = subprocess.Popen(["docker-registry", "serve", os.path.join(work, "registry.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(500):  # 10 s at most
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        time.sleep(0.02)
else:
    sys.exit("docker-registry did not start")

try:
    desc = {"config": {"Env": ["PATH=/bin"]}, "layers": [
        {"compression": "gzip", "entries": [{"path": "big/%02d.bin" % i, "random": 1 << 20} for i in range(50)]},
        {"compression": "gzip", "entries": [{"path": "small/%d/%d.txt" % (i // 100, i), "random": 512}
                                            for i in range(5000)]},
        {"compression": "gzip", "entries": [{"path": "etc/motd", "content": "cove bench\n"},
                                            {"path": "etc/os-release", "content": "ID=bench\n"}]},
    ]}
    with open(os.path.join(work, "image.json"), "w") as f:
        json.dump(desc, f)
    subprocess.run([sys.executable, fixture, os.path.join(work, "image.json"), os.path.join(work, "layout"),
                    "--tag", "1"], check=True, stdout=subprocess.DEVNULL)
    ref = "127.0.0.1:%d/bench/image:1" % port
    subprocess.run(["skopeo", "--insecure-policy", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false",
                    "oci:%s:1" % os.path.join(work, "layout"), "docker://" + ref], check=True)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(work, "layout", "blobs"))
               for f in fs)

    def remove(path):
        # podman's storage holds files of subordinate ids: remove in its namespace.
        if os.path.exists(path):
            subprocess.run(["podman", "unshare", "rm", "-rf", path], check=False, stderr=subprocess.DEVNULL)

    def cove(n):
        # Like for like with podman pull: both unpack the layers.
        d = os.path.join(work, "cove-%d" % n)
        return [[a.cove, "pull", "-q", "--root", d, ref]], d

    def cove_created(n):
        # And a container made from it: `create` finds the layers unpacked.
        d = os.path.join(work, "covec-%d" % n)
        return [[a.cove, "pull", "-q", "--root", d, ref],
                [a.cove, "--root", d, "--runroot", d + "/run", "create", "--network", "none", ref, "true"]], d

    def podman(n):
        d = os.path.join(work, "podman-%d" % n)
        return [["podman", "--root", d + "/root", "--runroot", d + "/run", "pull", "-q", "--tls-verify=false",
                 ref]], d

    def umoci(n):
        d = os.path.join(work, "umoci-%d" % n)
        os.makedirs(d, exist_ok=True)
        return [["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false", "docker://" + ref,
                 "oci:%s/oci:1" % d],
                ["umoci", "unpack", "--rootless", "--image", "%s/oci:1" % d, d + "/bundle"]], d

    def skopeo(n):
        # The same work as cove pull: fetch and verify, no unpack.
        d = os.path.join(work, "skopeo-%d" % n)
        os.makedirs(d, exist_ok=True)
        return [["skopeo", "--insecure-policy", "copy", "-q", "--src-tls-verify=false", "docker://" + ref,
                 "oci:%s/oci:1" % d]], d

    tools = [("cove pull (unpacks)", cove), ("skopeo copy to oci: (no unpack)", skopeo),
             ("cove pull + cove create", cove_created),
             ("podman pull", podman), ("skopeo copy + umoci unpack --rootless", umoci)]
    times = {name: [] for name, _ in tools}
    failures = {}
    for n in range(a.runs):
        for name, make in tools:
            cmds, d = make(n)
            start = time.monotonic()
            ok = True
            for c in cmds:
                r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
                if r.returncode != 0:
                    failures[name] = r.stderr.strip()[-300:]
                    ok = False
                    break
            if ok:
                times[name].append(time.monotonic() - start)
            remove(d)

    print("image: 3 gzip layers, %.1f MB of blobs, from docker-registry on 127.0.0.1; %d runs each, interleaved"
          % (size / 1e6, a.runs))
    print("note: cove pull, podman pull and umoci unpack the layers; skopeo copy does not")
    base = statistics.median(times[tools[0][0]]) if times[tools[0][0]] else None
    print("%-40s %8s %8s %8s %8s" % ("tool", "median", "min", "max", "ratio"))
    for name, _ in tools:
        t = times[name]
        if not t:
            print("%-40s failed: %s" % (name, failures.get(name, "")))
            continue
        m = statistics.median(t)
        print("%-40s %7.2fs %7.2fs %7.2fs %7.2fx" % (name, m, min(t), max(t), m / base if base else float("nan")))
    cu, pp = times["cove pull (unpacks)"], times["podman pull"]
    if cu and pp:
        print("ratio cove pull / podman pull (both unpack): %.2f (goal: at most 0.5)"
              % (statistics.median(cu) / statistics.median(pp)))
finally:
    registry.terminate()
    try:
        registry.wait(timeout=10)
    except subprocess.TimeoutExpired:
        registry.kill()
    subprocess.run(["podman", "unshare", "rm", "-rf", work], check=False, stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)
