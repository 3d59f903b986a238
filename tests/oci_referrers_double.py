"""A loopback registry speaking the OCI distribution spec v1.1 with the referrers API
(`GET /v2/<name>/referrers/<digest>`, "Listing Referrers"), which Debian's docker-registry
lacks: blobs (POST then PUT), manifests by tag or digest (a manifest with a `subject` is
listed as its referrer, with its `artifactType` and annotations, as the spec says), and
nothing else. It counts the requests it served."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INDEX = "application/vnd.oci.image.index.v1+json"


class ReferrersRegistry:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}  # (repo, ref) -> body, type
        self.referrers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.requests = 0
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                double.serve(self, "GET")

            def do_HEAD(self) -> None:
                double.serve(self, "HEAD")

            def do_POST(self) -> None:
                double.serve(self, "POST")

            def do_PUT(self) -> None:
                double.serve(self, "PUT")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self.requests += 1
        url = urlsplit(h.path)
        path = url.path.removeprefix("/v2/")
        body = h.rfile.read(int(h.headers.get("content-length") or 0)) if method in (
            "POST", "PUT") else b""
        for marker in ("/blobs/uploads/", "/blobs/", "/manifests/", "/referrers/"):
            if marker in path:
                repo, _, rest = path.partition(marker)
                return self._route(h, method, marker, repo, rest, parse_qs(url.query), body)
        return self._send(h, method, 200 if url.path == "/v2/" else 404, b"{}")

    def _route(self, h: BaseHTTPRequestHandler, method: str, marker: str, repo: str, rest: str,
               query: dict[str, list[str]], body: bytes) -> None:
        if marker == "/blobs/uploads/":
            if method == "POST":
                return self._send(h, method, 202, b"",
                                  {"Location": f"/v2/{repo}/blobs/uploads/{uuid.uuid4()}"})
            digest = query["digest"][0]
            if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
                return self._send(h, method, 400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
            self.blobs[digest] = body
            return self._send(h, method, 201, b"", {"Docker-Content-Digest": digest})
        if marker == "/blobs/":
            if rest not in self.blobs:
                return self._send(h, method, 404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            return self._send(h, method, 200, self.blobs[rest])
        if marker == "/referrers/":
            index = {"schemaVersion": 2, "mediaType": INDEX,
                     "manifests": self.referrers.get((repo, rest), [])}
            return self._send(h, method, 200, json.dumps(index).encode(),
                              {"Content-Type": INDEX})
        if method == "PUT":
            return self._put_manifest(h, repo, rest, body)
        found = self.manifests.get((repo, rest))
        if found is None:
            return self._send(h, method, 404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
        digest = "sha256:" + hashlib.sha256(found[0]).hexdigest()
        return self._send(h, method, 200, found[0],
                          {"Content-Type": found[1], "Docker-Content-Digest": digest})

    def _put_manifest(self, h: BaseHTTPRequestHandler, repo: str, ref: str, body: bytes) -> None:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        manifest = json.loads(body)
        kind = h.headers.get("content-type", manifest.get("mediaType", ""))
        self.manifests[(repo, ref)] = self.manifests[(repo, digest)] = (body, kind)
        extra = {"Docker-Content-Digest": digest}
        subject = manifest.get("subject")
        if subject:
            self.referrers.setdefault((repo, subject["digest"]), []).append({
                "mediaType": kind, "digest": digest, "size": len(body),
                "artifactType": manifest.get("artifactType") or
                manifest.get("config", {}).get("mediaType"),
                "annotations": manifest.get("annotations") or {}})
            extra["OCI-Subject"] = subject["digest"]
        return self._send(h, "PUT", 201, b"", extra)

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, method: str, status: int, body: bytes,
              headers: dict[str, str] | None = None) -> None:
        h.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)
