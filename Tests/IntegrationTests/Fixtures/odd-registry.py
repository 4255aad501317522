#!/usr/bin/env python3
"""A registry that serves odd manifests, for tests of what cove refuses
(python3 stdlib only):

    odd-registry.py

listens on 127.0.0.1 (a free port), prints the port once ready, answers
GET /v2/ with 200 and, for /v2/NAME/manifests/REF:
  - NAME big/sized:   a 5 MiB manifest with its Content-Length
  - NAME big/stream:  a 5 MiB manifest without one (the body ends at close)
  - NAME odd/type:    a small manifest of media type application/vnd.example+json
anything else is 404 MANIFEST_UNKNOWN.
"""
import http.server
import json
import sys

BIG = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","pad":"' + b"x" * (5 << 20) + b'"}'
ODD = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.example+json"}).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/v2/":
            return self.send(200, b"{}", "application/json")
        if path.startswith("/v2/big/sized/manifests/"):
            return self.send(200, BIG, "application/vnd.oci.image.manifest.v1+json")
        if path.startswith("/v2/big/stream/manifests/"):
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, len(BIG), 65536):
                try:
                    self.wfile.write(BIG[i:i + 65536])
                except OSError:
                    return
            self.close_connection = True
            return
        if path.startswith("/v2/odd/type/manifests/"):
            return self.send(200, ODD, "application/vnd.example+json")
        self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', "application/json")

    def send(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # cove hangs up on a manifest it refuses


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
