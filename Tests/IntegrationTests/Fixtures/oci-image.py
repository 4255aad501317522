#!/usr/bin/env python3
"""Write an OCI image layout (oci-layout, index.json, blobs/sha256/) from a
JSON description, for tests: no network, no daemon, python3's stdlib plus the
`zstd` command for zstd layers.

Usage:
    oci-image.py DESCRIPTION.json|- OUTDIR [--tag TAG]

Then, e.g.: skopeo copy --dest-tls-verify=false oci:OUTDIR:TAG docker://127.0.0.1:PORT/name:TAG
(add `--all` for a multi-platform image: skopeo copies one platform otherwise).

Prints a JSON summary on stdout:
    {"index": "sha256:…" or null, "manifests": [{"platform": "linux/amd64",
     "digest": "sha256:…", "config": "sha256:…",
     "layers": [{"digest", "size", "diff_id", "mediaType"}]}]}

Description (every key optional but `layers`):
    {
      "created": "2024-01-02T03:04:05Z",
      "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"], ...},  # image config "config"
      "layers": [LAYER, ...],                        # one platform: this machine's
      "platforms": [                                 # or several: an image index
        {"os": "linux", "architecture": "arm64", "variant": "v8",
         "layers": [LAYER, ...], "config": {...}}
      ],
      "docker": false          # true: Docker schema2 media types instead of OCI
    }
LAYER:
    {"compression": "gzip" | "zstd" | "none",       # default gzip
     "entries": [ENTRY, ...]}                        # or:
    {"compression": "gzip", "directory": "/host/dir"}  # a host tree, owned by 0:0
ENTRY (path relative to the root, no leading slash):
    {"path": "etc/motd", "type": "file", "content": "hi\\n"}   # type defaults to file
        "content_base64": "…" instead of content; "random": N for N random bytes
    {"path": "srv", "type": "dir"}
    {"path": "bin/sh", "type": "symlink", "target": "busybox"}
    {"path": "b", "type": "hardlink", "target": "a"}           # target: an earlier path
    {"path": "etc/gone", "type": "whiteout"}                  # writes etc/.wh.gone
    {"path": "var/cache", "type": "opaque"}                   # writes var/cache/.wh..wh..opq
  every entry may set "mode" (default 0o644 files, 0o755 dirs, as an int),
  "uid", "gid" (default 0) and "mtime" (default 0).
"""
import gzip
import hashlib
import io
import json
import os
import platform as host_platform
import shutil
import subprocess
import sys
import tarfile

OCI = {
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "index": "application/vnd.oci.image.index.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
DOCKER = {
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
    "index": "application/vnd.docker.distribution.manifest.list.v2+json",
    "config": "application/vnd.docker.container.image.v1+json",
    "none": "application/vnd.docker.image.rootfs.diff.tar",
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
}


def fail(msg):
    sys.stderr.write("oci-image.py: " + msg + "\n")
    sys.exit(2)


def host_arch():
    m = host_platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(m, m)


class Layout:
    def __init__(self, out):
        self.out = out
        os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(out, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(self, data):
        digest = hashlib.sha256(data).hexdigest()
        path = os.path.join(self.out, "blobs", "sha256", digest)
        if not os.path.exists(path):
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.rename(path + ".tmp", path)
        return "sha256:" + digest, len(data)

    def put_json(self, obj):
        return self.put(json.dumps(obj, separators=(",", ":"), sort_keys=True).encode())


def tar_entries(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            path = e["path"].strip("/")
            kind = e.get("type", "file")
            info = tarfile.TarInfo()
            info.uid = e.get("uid", 0)
            info.gid = e.get("gid", 0)
            info.uname = info.gname = ""
            info.mtime = e.get("mtime", 0)
            data = None
            if kind == "file":
                if "content_base64" in e:
                    import base64
                    data = base64.b64decode(e["content_base64"])
                elif "random" in e:
                    data = os.urandom(int(e["random"]))
                else:
                    data = e.get("content", "").encode()
                info.type = tarfile.REGTYPE
                info.size = len(data)
                info.mode = e.get("mode", 0o644)
                info.name = path
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = e.get("mode", 0o755)
                info.name = path
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = e["target"]
                info.mode = e.get("mode", 0o777)
                info.name = path
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = e["target"].strip("/")
                info.mode = e.get("mode", 0o644)
                info.name = path
            elif kind == "whiteout":
                head, base = os.path.split(path)
                info.type = tarfile.REGTYPE
                info.name = os.path.join(head, ".wh." + base)
                info.mode = 0o644
                data = b""
            elif kind == "opaque":
                info.type = tarfile.REGTYPE
                info.name = os.path.join(path, ".wh..wh..opq")
                info.mode = 0o644
                data = b""
            else:
                fail("unknown entry type %r for %s" % (kind, path))
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def tar_directory(directory):
    if not os.path.isdir(directory):
        fail("layer directory %s does not exist" % directory)

    def owned_by_root(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(directory)):
            tar.add(os.path.join(directory, name), arcname=name, filter=owned_by_root)
    return buf.getvalue()


def compress(data, how):
    if how == "none":
        return data
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        if shutil.which("zstd") is None:
            fail("zstd layers need the zstd command (Debian package zstd)")
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, stdout=subprocess.PIPE, check=True).stdout
    fail("unknown compression %r (gzip, zstd or none)" % how)


def build_image(layout, types, desc, plat, created):
    layers = []
    diff_ids = []
    for spec in desc.get("layers", []):
        raw = tar_directory(spec["directory"]) if "directory" in spec else tar_entries(spec.get("entries", []))
        how = spec.get("compression", "gzip")
        blob = compress(raw, how)
        digest, size = layout.put(blob)
        diff_id = "sha256:" + hashlib.sha256(raw).hexdigest()
        diff_ids.append(diff_id)
        layers.append({"mediaType": types[how], "digest": digest, "size": size, "diff_id": diff_id})
    config = {
        "created": created,
        "architecture": plat["architecture"],
        "os": plat["os"],
        "config": desc.get("config", {}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": "oci-image.py"} for _ in layers],
    }
    if plat.get("variant"):
        config["variant"] = plat["variant"]
    cdigest, csize = layout.put_json(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": {"mediaType": types["config"], "digest": cdigest, "size": csize},
        "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers],
    }
    mdigest, msize = layout.put_json(manifest)
    name = plat["os"] + "/" + plat["architecture"] + ("/" + plat["variant"] if plat.get("variant") else "")
    summary = {"platform": name, "digest": mdigest, "config": cdigest, "layers": layers}
    return {"mediaType": types["manifest"], "digest": mdigest, "size": msize}, summary


def main(argv):
    if len(argv) < 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    tag = "latest"
    if "--tag" in argv:
        i = argv.index("--tag")
        tag = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    desc = json.load(sys.stdin if argv[1] == "-" else open(argv[1]))
    layout = Layout(argv[2])
    types = DOCKER if desc.get("docker") else OCI
    created = desc.get("created", "2024-01-01T00:00:00Z")
    ref = {"org.opencontainers.image.ref.name": tag}
    if "platforms" in desc:
        descriptors, summaries = [], []
        for p in desc["platforms"]:
            sub = dict(desc)
            sub.update(p)
            plat = {"os": p.get("os", "linux"), "architecture": p["architecture"], "variant": p.get("variant")}
            d, s = build_image(layout, types, sub, plat, created)
            d["platform"] = {k: v for k, v in plat.items() if v}
            descriptors.append(d)
            summaries.append(s)
        index = {"schemaVersion": 2, "mediaType": types["index"], "manifests": descriptors}
        idigest, isize = layout.put_json(index)
        top = [{"mediaType": types["index"], "digest": idigest, "size": isize, "annotations": ref}]
        result = {"index": idigest, "manifests": summaries}
    else:
        plat = {"os": "linux", "architecture": host_arch(), "variant": None}
        d, s = build_image(layout, types, desc, plat, created)
        d["annotations"] = ref
        top = [d]
        result = {"index": None, "manifests": [s]}
    with open(os.path.join(argv[2], "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI["index"], "manifests": top}, f)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
