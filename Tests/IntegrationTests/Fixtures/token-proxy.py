#!/usr/bin/env python3
"""A Bearer-token front for a registry, for tests (python3 stdlib only).

docker-registry's own `auth: token` wants JWTs signed under a certificate
chain; this stands in for the token service and the registry's check of it:

    token-proxy.py UPSTREAM_PORT USER PASSWORD LOGFILE

listens on 127.0.0.1 (a free port), prints "PORT STORAGE_PORT" on stdout once
ready, and then:
  - GET /token?service=…&scope=… checks Basic USER:PASSWORD (when sent; a
    wrong one is 401) and answers {"token": T, "access_token": T}; a token
    without credentials grants nothing (anonymous pulls are refused);
  - /v2/… without a granted `Authorization: Bearer T` is 401 with
    `WWW-Authenticate: Bearer realm="http://127.0.0.1:PORT/token",
    service="cove-test",scope="repository:NAME:pull"`;
  - with one, the request goes to the registry at 127.0.0.1:UPSTREAM_PORT;
    a blob GET is answered 307 to a second listener (STORAGE_PORT, another
    origin, as registries redirect to object storage), which serves the blob
    and refuses any request that carries an Authorization header.
Each request is logged to LOGFILE as "METHOD PATH AUTH-SCHEME".
"""
import base64
import http.client
import http.server
import json
import secrets
import sys
import threading
import urllib.parse

UPSTREAM = int(sys.argv[1])
USER, PASSWORD, LOG = sys.argv[2], sys.argv[3], sys.argv[4]
granted = set()
lock = threading.Lock()
PASSED = ("Content-Type", "Content-Length", "Docker-Content-Digest", "Content-Range", "Accept-Ranges", "ETag")


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


def forward(handler, path):
    conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
    headers = {k: v for k, v in handler.headers.items() if k in ("Accept", "Range")}
    conn.request(handler.command, path, headers=headers)
    resp = conn.getresponse()
    handler.send_response(resp.status)
    for k, v in resp.getheaders():
        if k in PASSED:
            handler.send_header(k, v)
    handler.end_headers()
    while True:
        chunk = resp.read(65536)
        if not chunk:
            break
        handler.wfile.write(chunk)
    conn.close()


class Front(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        log("%s %s %s" % (self.command, self.path, auth.split(" ")[0] if auth else "-"))
        url = urllib.parse.urlparse(self.path)
        if url.path == "/token":
            if auth:
                try:
                    user, _, pw = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
                except Exception:
                    user, pw = "", None
                if not auth.startswith("Basic ") or (user, pw) != (USER, PASSWORD):
                    return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}',
                                      [("Content-Type", "application/json")])
            token = secrets.token_hex(16)
            if auth:
                with lock:
                    granted.add(token)
            return self.reply(200, json.dumps({"token": token, "access_token": token}).encode(),
                              [("Content-Type", "application/json")])
        parts = url.path.split("/")
        name = "/".join(parts[2:-2]) if len(parts) > 4 else ""
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with lock:
            ok = token in granted
        if not ok:
            challenge = 'Bearer realm="http://127.0.0.1:%d/token",service="cove-test"' % PORT
            if name:
                challenge += ',scope="repository:%s:pull"' % name
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                              [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
        if len(parts) > 4 and parts[-2] == "blobs":
            return self.reply(307, b"", [("Location", "http://127.0.0.1:%d%s" % (STORAGE_PORT, url.path))])
        forward(self, self.path)


class Storage(Front):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        log("storage %s %s %s" % (self.command, self.path, auth.split(" ")[0] if auth else "-"))
        if auth:
            return self.reply(400, b"credentials sent to storage")
        forward(self, self.path)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


front = Server(("127.0.0.1", 0), Front)
storage = Server(("127.0.0.1", 0), Storage)
PORT = front.server_address[1]
STORAGE_PORT = storage.server_address[1]
threading.Thread(target=storage.serve_forever, daemon=True).start()
print("%d %d" % (PORT, STORAGE_PORT), flush=True)
front.serve_forever()
