"""The front's rows of `make bench-start`: `cove run --rm IMAGE true`
against `podman run --rm IMAGE true`, each without a network and with its
default one (cove-net; podman's slirp4netns), plus `cove create`,
`cove start -a` and `cove rm` timed one by one.

One image, made here from the busybox bundle's rootfs with `podman import`
into a podman store of its own (storage.conf: driver overlay, graphroot and
runroot in the work directory, so podman uses the kernel's native overlay
as a tuned install would), then `podman save`d and `cove load`ed into a
cove store of its own: both run the same layer."""
import os, subprocess, time

IMAGE = "localhost/cove-bench-start:latest"


class FrontRows:
    def __init__(self, cove, rootfs, work):
        self.cove = cove
        self.work = work
        d = os.path.join(work, "front")
        os.makedirs(d)
        conf = os.path.join(d, "storage.conf")
        with open(conf, "w") as f:
            f.write('[storage]\ndriver = "overlay"\ngraphroot = "%s/podman-graph"\nrunroot = "%s/podman-run"\n' % (d, d))
        # Every podman started from here on (the front rows' only) reads it;
        # the runtime rows' podman use (the seccomp profile) came before.
        os.environ["CONTAINERS_STORAGE_CONF"] = conf
        self.cove_global = [cove, "--root", d + "/cove-root", "--runroot", d + "/cove-run"]
        tar = os.path.join(d, "rootfs.tar")
        subprocess.run(["tar", "--owner=0", "--group=0", "-C", rootfs, "-cf", tar, "."], check=True)
        self._must(["podman", "import", "--change", "ENV=PATH=/bin", tar, IMAGE], "podman import")
        driver = self._must(["podman", "info", "--format", "{{.Store.GraphDriverName}}"], "podman info").strip()
        if driver != "overlay":
            raise SystemExit("bench-start: podman uses the %s driver, not overlay: the podman rows would not be "
                             "podman's native overlay store" % driver)
        oci = os.path.join(d, "image.oci.tar")
        self._must(["podman", "save", "--format", "oci-archive", "-o", oci, IMAGE], "podman save")
        self._must(self.cove_global + ["load", "-i", oci], "cove load")
        self.names = {}

    @staticmethod
    def _must(argv, what):
        r = subprocess.run(argv, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench-start: %s failed: %s" % (what, (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]))
        return r.stdout

    def candidates(self):
        g = self.cove_global
        return {
            "cove run --network none": lambda: g + ["run", "--rm", "--network", "none", IMAGE, "true"],
            "podman run --network=none": lambda: ["podman", "run", "--rm", "--network=none", IMAGE, "true"],
            "cove run (cove-net)": lambda: g + ["run", "--rm", IMAGE, "true"],
            "podman run (slirp4netns)": lambda: ["podman", "run", "--rm", IMAGE, "true"],
        }

    def lifecycle_round(self):
        """cove create, start -a, rm of one container (no network), each
        timed; returns {} when a step fails (that round is not counted)."""
        g = self.cove_global
        out = {}
        t = time.perf_counter()
        r = subprocess.run(g + ["create", "--network", "none", IMAGE, "true"], capture_output=True, text=True)
        out["cove create"] = (time.perf_counter() - t) * 1000
        cid = r.stdout.strip()
        if r.returncode != 0 or not cid:
            return {}
        for name, argv in (("cove start -a", g + ["start", "-a", cid]), ("cove rm", g + ["rm", cid])):
            t = time.perf_counter()
            r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out[name] = (time.perf_counter() - t) * 1000
            if r.returncode != 0:
                return {}
        out["cove create+start+rm"] = out["cove create"] + out["cove start -a"] + out["cove rm"]
        return out

    @staticmethod
    def print_ratios(med):
        for cove, podman in (("cove run --network none", "podman run --network=none"),
                             ("cove run (cove-net)", "podman run (slirp4netns)")):
            if cove in med and podman in med:
                print("ratio %s / %s: %.3f (goal: at most 0.10)" % (cove, podman, med[cove] / med[podman]))

    def cleanup(self):
        # Both stores hold files of the user's subordinate ids: remove them
        # inside a user namespace with that mapping.
        subprocess.run(["podman", "unshare", "rm", "-rf", os.path.join(self.work, "front")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
