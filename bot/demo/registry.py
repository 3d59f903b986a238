"""A real local registry (Debian's docker-registry) and real pushes with skopeo, for the
demo and the end-to-end tests."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import httpx

REGISTRY_BINARY = "docker-registry"
SKOPEO_BINARY = "skopeo"


def available() -> bool:
    """True when both docker-registry and skopeo are installed."""
    return bool(shutil.which(REGISTRY_BINARY) and shutil.which(SKOPEO_BINARY))


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _blob(layout: Path, data: bytes) -> tuple[str, int]:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}", len(data)


def write_oci_layout(layout: Path, tag: str, content: str) -> str:
    """An OCI image layout holding one small image tagged `tag`; returns its manifest digest.
    Different `content` gives a different image."""
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = content.encode()
        info = tarfile.TarInfo("version.txt")
        info.size, info.mtime = len(data), 0
        tar.addfile(info, io.BytesIO(data))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer_digest, layer_size = _blob(layout, gzip.compress(raw.getvalue(), mtime=0))
    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"org.opencontainers.image.version": tag}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    config_digest, config_size = _blob(layout, json.dumps(config).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": layer_size}],
    }
    manifest_digest, manifest_size = _blob(layout, json.dumps(manifest).encode())
    index_path = layout / "index.json"
    index: dict[str, Any] = (json.loads(index_path.read_text()) if index_path.exists()
                             else {"schemaVersion": 2, "manifests": []})
    index["manifests"] = [m for m in index["manifests"]
                          if m["annotations"]["org.opencontainers.image.ref.name"] != tag]
    index["manifests"].append({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
        "size": manifest_size, "annotations": {"org.opencontainers.image.ref.name": tag},
    })
    index_path.write_text(json.dumps(index))
    return manifest_digest


class LocalRegistry:
    """docker-registry on 127.0.0.1:port whose notifications go to `notify_url` (None: it
    sends none, like a registry that cannot call)."""

    def __init__(self, workdir: Path, port: int, notify_url: str | None, token: str,
                 htpasswd: Path | None = None) -> None:
        self.workdir = workdir
        self.port = port
        self.notify_url = notify_url
        self.token = token
        self.htpasswd = htpasswd  # bcrypt htpasswd file: turns on Basic auth
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """host:port as clients (and so notifications) name it."""
        return f"localhost:{self.port}"

    def _config(self) -> str:
        auth = {"htpasswd": {"realm": "hoist-test", "path": str(self.htpasswd)}} \
            if self.htpasswd else {}
        config: dict[str, Any] = {
            "auth": auth,
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.workdir / "storage")}},
            "http": {"addr": f"127.0.0.1:{self.port}"},
        }
        if self.notify_url is not None:
            config["notifications"] = {"endpoints": [{
                "name": "hoist", "url": self.notify_url,
                "headers": {"Authorization": [f"Bearer {self.token}"]},
                "timeout": "2s", "threshold": 10, "backoff": "1s",
            }]}
        return json.dumps(config)

    def start(self, timeout: float = 20.0) -> None:
        """Start the registry and wait until it answers /v2/."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "config.yml"
        config.write_text(self._config())  # JSON is YAML
        log = (self.workdir / "registry.log").open("wb")
        self.process = subprocess.Popen([REGISTRY_BINARY, "serve", str(config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/v2/", timeout=1).status_code in (
                        200, 401):
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"docker-registry did not start; see {self.workdir / 'registry.log'}")

    def push(self, layout: Path, tag: str, repository: str, creds: str | None = None) -> None:
        """skopeo copy the layout's `tag` image to this registry as repository:tag."""
        auth = [f"--dest-creds={creds}"] if creds else []
        subprocess.run(
            [SKOPEO_BINARY, "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
             *auth, f"oci:{layout}:{tag}", f"docker://{self.host}/{repository}:{tag}"],
            check=True, capture_output=True, timeout=60,
        )

    def stop(self) -> None:
        """Stop the registry process."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None
