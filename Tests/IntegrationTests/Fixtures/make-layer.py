#!/usr/bin/env python3
"""Writes a layer tar from a JSON list of entries and prints its diff_id.

usage: make-layer.py OUT SPEC.json [none|gzip|zstd|xz]

Each entry: {"name": str, "type": "file|dir|symlink|hardlink|fifo|char",
"data": str, "mode": int, "uid": int, "gid": int, "link": str,
"xattrs": {name: value}, "size": int (a file of that many zero bytes),
"sparse": int (a PAX 1.0 sparse file of that apparent size holding "data" at 0)}.
Names are written as given: hostile layers are the point.
"""
import hashlib, io, json, subprocess, sys, tarfile

TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE}

def main():
    out, spec = sys.argv[1], json.load(open(sys.argv[2]))
    compression = sys.argv[3] if len(sys.argv) > 3 else "none"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in spec:
            ti = tarfile.TarInfo(e["name"])
            ti.type = TYPES[e.get("type", "file")]
            ti.mode = e.get("mode", 0o755 if e.get("type") == "dir" else 0o644)
            ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
            ti.mtime = e.get("mtime", 1600000000)
            ti.linkname = e.get("link", "")
            if "xattrs" in e:
                ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
            if "sparse" in e:
                # GNU sparse 1.0 in PAX: a map (entries, offset, size) in the
                # data, padded to a block, then the data itself.
                data = e.get("data", "x").encode()
                smap = f"1\n0\n{len(data)}\n".encode()
                smap += b"\0" * (-len(smap) % 512)
                ti.name = "GNUSparseFile.0/" + e["name"]
                ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                                  "GNU.sparse.name": e["name"], "GNU.sparse.realsize": str(e["sparse"])}
                ti.size = len(smap) + len(data)
                t.addfile(ti, io.BytesIO(smap + data))
                continue
            if ti.type == tarfile.REGTYPE:
                data = e.get("data", "").encode() if "size" not in e else b"\0" * e["size"]
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                t.addfile(ti)
    raw = buf.getvalue()
    if compression == "gzip":
        import gzip
        blob = gzip.compress(raw)
    elif compression == "xz":
        import lzma
        blob = lzma.compress(raw)
    elif compression == "zstd":
        blob = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True).stdout
    else:
        blob = raw
    with open(out, "wb") as f:
        f.write(blob)
    print("sha256:" + hashlib.sha256(raw).hexdigest())

main()
