#!/usr/bin/env python3
"""A small distribution-API registry serving an OCI layout, for 31-pull.sh.

docker-registry covers the well-behaved cases; this one misbehaves on purpose
and speaks the parts docker-registry's test setup cannot (Bearer tokens,
redirects to another origin):

  fake_registry.py LAYOUT PORTFILE LOGFILE [--bearer USER:PASS|anon] [--redirect]
                   [--mode normal|truncate|stall|error500|oversize|bad-digest-header|huge-manifest]

Manifests are found by tag (the index.json entry whose ref.name annotation is
the tag) or by digest; blobs by digest. The chosen port is written to PORTFILE;
each request is logged to LOGFILE as "METHOD PATH auth=yes|no".
"""
import base64
import hashlib
import json
import os
import secrets
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
LAYOUT, PORTFILE, LOGFILE = args[0], args[1], args[2]
opts = {"--bearer": None, "--redirect": False, "--mode": "normal"}
i = 3
while i < len(args):
    if args[i] == "--redirect":
        opts["--redirect"] = True
        i += 1
    else:
        opts[args[i]] = args[i + 1]
        i += 2
MODE = opts["--mode"]
BEARER = opts["--bearer"]
TOKENS = set()


def blob(digest):
    if not digest.startswith("sha256:") or "/" in digest or len(digest) != 71:
        return None
    path = os.path.join(LAYOUT, "blobs", "sha256", digest[7:])
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def find_manifest(ref):
    with open(os.path.join(LAYOUT, "index.json")) as f:
        index = json.load(f)
    for m in index["manifests"]:
        name = m.get("annotations", {}).get("org.opencontainers.image.ref.name")
        if ref == m["digest"] or ref == name:
            return m["mediaType"], m["digest"]
    if ref.startswith("sha256:") and blob(ref) is not None:
        return None, ref
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, status, body=b"", headers=None, length=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        return body

    def error(self, status, code, msg, headers=None):
        body = json.dumps({"errors": [{"code": code, "message": msg}]}).encode()
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.wfile.write(self.send(status, body, h))

    def authorized(self):
        if BEARER is None:
            return True
        auth = self.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in TOKENS

    def do_GET(self):
        host = self.headers.get("Host", "")
        auth = self.headers.get("Authorization")
        with open(LOGFILE, "a") as f:
            f.write("GET %s host=%s auth=%s\n" % (self.path, host, "yes" if auth else "no"))
        port = self.server.server_address[1]
        path = self.path.split("?")[0]
        if path == "/token":
            return self.token()
        if path.startswith("/storage/"):
            # another origin: the registry's credentials must not come along
            if auth:
                return self.error(400, "LEAK", "credentials were forwarded to storage")
            data = blob(path[len("/storage/"):])
            if data is None:
                return self.error(404, "BLOB_UNKNOWN", "no such blob")
            return self.wfile.write(self.send(200, data, {"Content-Type": "application/octet-stream"}))
        if not path.startswith("/v2/"):
            return self.error(404, "NOT_FOUND", "not found")
        if not self.authorized():
            scope = ""
            parts = path[4:].split("/")
            if len(parts) >= 3:
                scope = ',scope="repository:%s:pull"' % "/".join(parts[:-2])
            return self.error(401, "UNAUTHORIZED", "authentication required", {
                "WWW-Authenticate": 'Bearer realm="http://127.0.0.1:%d/token",service="fake"%s'
                                    % (port, scope)})
        if path == "/v2/":
            return self.wfile.write(self.send(200, b"{}", {"Content-Type": "application/json"}))
        if MODE == "error500":
            return self.error(500, "UNKNOWN", "the storage backend is on fire")
        parts = path[4:].split("/")
        if len(parts) < 3 or parts[-2] not in ("manifests", "blobs"):
            return self.error(404, "NAME_UNKNOWN", "not found")
        kind, ref = parts[-2], parts[-1]
        if kind == "manifests":
            mt, digest = find_manifest(ref)
            data = blob(digest) if digest else None
            if data is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            if MODE == "huge-manifest":
                data = b"{" + b" " * (5 << 20) + b"}"
            if mt is None:
                mt = json.loads(data).get("mediaType", "application/json")
            dh = "sha256:" + hashlib.sha256(data).hexdigest()
            if MODE == "bad-digest-header":
                dh = "sha256:" + "0" * 64
            return self.wfile.write(self.send(200, data, {"Content-Type": mt, "Docker-Content-Digest": dh}))
        data = blob(ref)
        if data is None:
            return self.error(404, "BLOB_UNKNOWN", "blob unknown")
        if opts["--redirect"]:
            # 127.0.0.1 and localhost are different origins
            return self.wfile.write(self.send(307, b"", {
                "Location": "http://localhost:%d/storage/%s" % (port, ref)}))
        if MODE == "truncate" and len(data) > 1000:
            self.send(200, headers={"Content-Type": "application/octet-stream"}, length=len(data))
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if MODE == "stall" and len(data) > 1000:
            self.send(200, headers={"Content-Type": "application/octet-stream"}, length=len(data))
            self.wfile.write(data[:100])
            self.wfile.flush()
            time.sleep(60)
            self.close_connection = True
            return
        if MODE == "oversize":
            data += b"more than the descriptor says"
        self.wfile.write(self.send(200, data, {"Content-Type": "application/octet-stream"}))

    def token(self):
        if BEARER != "anon":
            want = "Basic " + base64.b64encode(BEARER.encode()).decode()
            if self.headers.get("Authorization") != want:
                return self.error(401, "UNAUTHORIZED", "bad credentials")
        tok = secrets.token_hex(16)
        TOKENS.add(tok)
        self.wfile.write(self.send(200, json.dumps({"token": tok}).encode(),
                                   {"Content-Type": "application/json"}))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
