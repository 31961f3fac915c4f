#!/usr/bin/env python3
"""A small distribution-API registry serving an OCI layout, for 31-pull.sh and 32-push.sh.

docker-registry covers the well-behaved cases; this one misbehaves on purpose
and speaks the parts docker-registry's test setup cannot (Bearer tokens with
scopes, redirects to another origin, relative upload Locations):

  fake_registry.py LAYOUT PORTFILE LOGFILE [--bearer USER:PASS|anon] [--redirect]
                   [--mode normal|truncate|stall|error500|oversize|bad-digest-header|huge-manifest]

Manifests are found by tag (the index.json entry whose ref.name annotation is
the tag) or by digest; blobs by digest. The chosen port is written to PORTFILE;
each request is logged to LOGFILE as "METHOD PATH host=H auth=yes|no".

Pushes are kept in memory (and served back): blobs per repository, uploads
answered with relative Locations that change with every chunk, manifests by
tag and digest. With --bearer, a token carries the scopes it was asked for:
pushing needs "push" on the repository, a mount "pull" on its source
(insufficient_scope otherwise, as docker-registry answers).
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
TOKENS = {}            # token -> {repository: set of actions}
PUSHED = {}            # digest -> bytes
REPO_BLOBS = {}        # repository -> set of digests pushed or mounted there
MANIFESTS = {}         # (repository, tag or digest) -> (media type, bytes)
UPLOADS = {}           # uuid -> bytearray


def blob(digest):
    if not digest.startswith("sha256:") or "/" in digest or len(digest) != 71:
        return None
    if digest in PUSHED:
        return PUSHED[digest]
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
        body = self.send(status, body, h)
        if self.command != "HEAD":
            self.wfile.write(body)

    def authorized(self, repo=None, action="pull"):
        if BEARER is None:
            return True
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in TOKENS:
            return False
        return repo is None or action in TOKENS[auth[7:]].get(repo, set())

    def log(self, method):
        with open(LOGFILE, "a") as f:
            f.write("%s %s host=%s auth=%s\n" % (method, self.path, self.headers.get("Host", ""),
                                                 "yes" if self.headers.get("Authorization") else "no"))

    def challenge(self, repo, actions, insufficient=False):
        port = self.server.server_address[1]
        extra = ',error="insufficient_scope"' if insufficient else ""
        return self.error(401, "UNAUTHORIZED", "authentication required", {
            "WWW-Authenticate": 'Bearer realm="http://127.0.0.1:%d/token",service="fake",'
                                'scope="repository:%s:%s"%s' % (port, repo, actions, extra)})

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def push_target(self):
        """(repository, kind, rest) of a push request's path, after the auth check; None when answered."""
        path = self.path.split("?")[0]
        parts = path[4:].split("/") if path.startswith("/v2/") else []
        if "blobs" in parts and parts.index("blobs") > 0:
            at = parts.index("blobs")
        elif "manifests" in parts and parts.index("manifests") > 0:
            at = parts.index("manifests")
        else:
            self.error(404, "NOT_FOUND", "not found")
            return None
        repo = "/".join(parts[:at])
        if not self.authorized(repo, "push"):
            tok = self.headers.get("Authorization", "")[7:]
            self.challenge(repo, "pull,push", tok in TOKENS)
            return None
        return repo, parts[at], parts[at + 1:]

    def do_HEAD(self):
        self.log("HEAD")
        path = self.path.split("?")[0]
        parts = path[4:].split("/")
        if not path.startswith("/v2/") or len(parts) < 3 or parts[-2] != "blobs":
            return self.send(404)
        repo = "/".join(parts[:-2])
        if not self.authorized(repo, "pull"):
            return self.challenge(repo, "pull")
        data = blob(parts[-1])
        if data is None or (parts[-1] in PUSHED and parts[-1] not in REPO_BLOBS.get(repo, ())):
            return self.send(404)
        self.send(200, headers={"Content-Type": "application/octet-stream"}, length=len(data))

    def do_POST(self):
        self.log("POST")
        self.body()
        t = self.push_target()
        if t is None:
            return
        repo, kind, rest = t
        if kind != "blobs" or rest[:1] != ["uploads"]:
            return self.error(404, "NOT_FOUND", "not found")
        q = dict(kv.split("=", 1) for kv in self.path.partition("?")[2].split("&") if "=" in kv)
        if "mount" in q and "from" in q:
            if not self.authorized(q["from"], "pull"):
                return self.challenge(repo, "pull,push", True)
            if q["mount"] in REPO_BLOBS.get(q["from"], ()):
                REPO_BLOBS.setdefault(repo, set()).add(q["mount"])
                return self.wfile.write(self.send(201, headers={
                    "Location": "/v2/%s/blobs/%s" % (repo, q["mount"]), "Docker-Content-Digest": q["mount"]}))
        uuid = secrets.token_hex(8)
        UPLOADS[uuid] = bytearray()
        self.wfile.write(self.send(202, headers={"Location": "/v2/%s/blobs/uploads/%s?n=0" % (repo, uuid),
                                                 "Range": "0-0"}))

    def do_PATCH(self):
        self.log("PATCH")
        data = self.body()
        t = self.push_target()
        if t is None:
            return
        repo, kind, rest = t
        uuid = rest[1] if len(rest) == 2 else ""
        if uuid not in UPLOADS:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload")
        start = int(self.headers.get("Content-Range", "0-0").split("-")[0])
        if start != len(UPLOADS[uuid]):
            return self.error(416, "BLOB_UPLOAD_INVALID", "chunk out of order")
        UPLOADS[uuid] += data
        n = int(self.path.partition("n=")[2] or 0) + 1
        self.wfile.write(self.send(202, headers={
            "Location": "/v2/%s/blobs/uploads/%s?n=%d" % (repo, uuid, n),
            "Range": "0-%d" % (len(UPLOADS[uuid]) - 1)}))

    def do_PUT(self):
        self.log("PUT")
        data = self.body()
        t = self.push_target()
        if t is None:
            return
        repo, kind, rest = t
        if kind == "manifests":
            d = "sha256:" + hashlib.sha256(data).hexdigest()
            mt = self.headers.get("Content-Type", "")
            MANIFESTS[(repo, rest[0])] = MANIFESTS[(repo, d)] = (mt, data)
            PUSHED[d] = data
            return self.wfile.write(self.send(201, headers={"Docker-Content-Digest": d,
                                                            "Location": "/v2/%s/manifests/%s" % (repo, d)}))
        uuid = rest[1] if len(rest) == 2 else ""
        if uuid not in UPLOADS:
            return self.error(404, "BLOB_UPLOAD_UNKNOWN", "no such upload")
        whole = bytes(UPLOADS.pop(uuid) + data)
        want = self.path.partition("digest=")[2].split("&")[0].replace("%3A", ":")
        if "sha256:" + hashlib.sha256(whole).hexdigest() != want:
            return self.error(400, "DIGEST_INVALID", "provided digest did not match uploaded content")
        PUSHED[want] = whole
        REPO_BLOBS.setdefault(repo, set()).add(want)
        self.wfile.write(self.send(201, headers={"Docker-Content-Digest": want,
                                                 "Location": "/v2/%s/blobs/%s" % (repo, want)}))

    def do_DELETE(self):
        self.log("DELETE")
        t = self.push_target()
        if t is not None:
            UPLOADS.pop(t[2][1] if len(t[2]) == 2 else "", None)
            self.wfile.write(self.send(204))

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
        parts = path[4:].split("/")
        if not self.authorized("/".join(parts[:-2]) if len(parts) >= 3 else None):
            scope = ""
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
        if kind == "manifests" and ("/".join(parts[:-2]), ref) in MANIFESTS:
            mt, data = MANIFESTS[("/".join(parts[:-2]), ref)]
            return self.wfile.write(self.send(200, data, {
                "Content-Type": mt, "Docker-Content-Digest": "sha256:" + hashlib.sha256(data).hexdigest()}))
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
        granted = {}
        query = self.path.partition("?")[2]
        for kv in query.split("&"):
            k, _, v = kv.partition("=")
            if k == "scope":
                # "repository:NAME:pull,push", escaped as curl escapes it
                v = v.replace("%3A", ":").replace("%3a", ":").replace("%2C", ",").replace("%2c", ",")
                v = v.replace("%2F", "/").replace("%2f", "/")
                kind, _, rest = v.partition(":")
                name, _, actions = rest.rpartition(":")
                if kind == "repository":
                    granted.setdefault(name, set()).update(actions.split(","))
        TOKENS[tok] = granted
        self.wfile.write(self.send(200, json.dumps({"token": tok}).encode(),
                                   {"Content-Type": "application/json"}))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
server.serve_forever()
