"""A private container engine for the tests that build and run the image and the Compose
stack: Debian's dockerd on its own socket and data root, the classic builder, a stand-in
Python base made with mmdebstrap (the pinned base cannot be pulled here) and stand-ins for
the stack's third-party images built from Debian packages.

How the engine is set up here, and why (the test set-up's business, never the product's):
- `--iptables=false --ip-forward=false --ip-masq=false`: sandboxes may have no usable
  iptables, and containers get no route off the machine; published ports still work through
  docker-proxy on 127.0.0.1.
- `--bridge=none` and a random `--default-address-pool`: no default bridge, and two engines on
  one machine (two test runs) do not pick the same subnet; their own containerd namespace.
- builds use `--network host`: apt and pip inside a build reach the package registries the
  way the host does, and the stand-in base carries the host's trusted CA certificates in case
  TLS is intercepted on the way.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import yaml

from tests.support import ROOT, lacking, need

PROGRAMS = ("dockerd", "docker", "docker-compose", "mmdebstrap")
HERE = Path(__file__).resolve().parent / "container"
BASE_TAG = "hoist-test/python-base:bookworm"
HOIST_TAG = "hoist:local"  # the tag docker-compose.yml runs
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Compose file -> its services' stand-ins: service -> stage of tests/container/standins.Dockerfile
STANDINS = {"docker-compose.yml": {"registry": "registry", "prometheus": "prometheus",
                                   "demo-app": "nginx"},
            "compose/postgres.yml": {"postgres": "postgres"}}


def need_engine() -> None:
    """The programs, and root: dockerd manages mounts, namespaces and cgroups."""
    need(*PROGRAMS)
    if os.geteuid() != 0:
        lacking("needs root to run dockerd")


def cache_dir() -> Path:
    """Where the stand-in base is kept between runs on this machine ($HOIST_TEST_CACHE)."""
    return Path(os.environ.get("HOIST_TEST_CACHE") or Path.home() / ".cache" / "hoist-tests")


class Engine:
    """dockerd with everything of its own under `root`; `docker` and `docker-compose` talk to
    it through DOCKER_HOST."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.network = "hoist-test"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def started(cls) -> Engine:
        """A new engine in a fresh short directory (unix socket paths are limited to 108
        bytes), running, with a user-defined network `hoist-test`."""
        engine = cls(Path(tempfile.mkdtemp(prefix="hoist-engine-", dir="/tmp")))
        engine.start()
        return engine

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "DOCKER_HOST": f"unix://{self.socket}", "DOCKER_BUILDKIT": "0",
                "COMPOSE_DOCKER_CLI_BUILD": "0", "DOCKER_CONFIG": str(self.root / "client")}

    def start(self, timeout: float = 60.0) -> None:
        pool = f"base=10.{random.randrange(64, 250)}.{random.randrange(256)}.0/24,size=28"
        log = (self.root / "dockerd.log").open("ab")
        self.process = subprocess.Popen(
            ["dockerd", "--data-root", str(self.root / "data"), "--exec-root",
             str(self.root / "exec"), "--pidfile", str(self.root / "dockerd.pid"),
             "--host", f"unix://{self.socket}", "--iptables=false", "--ip-forward=false",
             "--ip-masq=false", "--bridge=none", "--default-address-pool", pool,
             "--shutdown-timeout", "5",
             # Its own namespace, should it find a system containerd to share.
             "--containerd-namespace", "hoist-test", "--containerd-plugins-namespace",
             "hoist-test-plugins"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while self.docker("version", check=False, timeout=10).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dockerd did not start: {self.log()}")
            time.sleep(0.2)
        self.docker("network", "create", self.network)

    def log(self) -> str:
        return (self.root / "dockerd.log").read_text(errors="replace")[-3000:]

    def docker(self, *args: str | Path, check: bool = True,
               timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this engine; raise with its output when check fails."""
        return self._run(["docker", *map(str, args)], ROOT, self.env, check, timeout)

    def compose(self, directory: Path, project: str, *args: str,
                env: Mapping[str, str] | None = None, check: bool = True,
                timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
        """Run docker-compose on directory/docker-compose.yml as project `project`."""
        return self._run(["docker-compose", "--project-name", project, *args], directory,
                         {**self.env, **(env or {})}, check, timeout)

    @staticmethod
    def _run(argv: list[str], cwd: Path, env: Mapping[str, str], check: bool,
             timeout: float) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(argv, cwd=cwd, env=dict(env), capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv[:4])}… exited {result.returncode}:\n"
                                 f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def build(self, dockerfile: Path, context: Path, tag: str, target: str | None = None,
              args: Mapping[str, str] | None = None) -> float:
        """Build with the classic builder; returns the seconds it took."""
        options = [f"--build-arg={k}={v}" for k, v in (args or {}).items()]
        options += [f"--target={target}"] if target else []
        began = time.monotonic()
        self.docker("build", "--quiet", "--network=host", f"--file={dockerfile}",
                    f"--tag={tag}", *options, context, timeout=900)
        return time.monotonic() - began

    def stop(self) -> None:
        """Stop dockerd (it stops its containers), undo any mount it left, remove the root."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        left = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if line.split()[4].startswith(f"{self.root}/")]
        for mount in sorted(left, key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def base_recipe() -> list[str]:
    """mmdebstrap's arguments for the stand-in base: bookworm minbase with the Python the
    pinned python:3.11-slim-bookworm provides (`python`, venv) and the host's CA bundle."""
    hooks = [f'--customize-hook=cp {HOST_CA_BUNDLE} "$1{HOST_CA_BUNDLE}"'] \
        if HOST_CA_BUNDLE.is_file() else []
    return ["mmdebstrap", "--quiet", "--variant=minbase",
            "--include=python3,python3-venv,python-is-python3,ca-certificates", *hooks,
            '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
            "bookworm"]


def base_tarball() -> Path:
    """The stand-in base's root file system, made once per recipe and CA bundle and kept in
    cache_dir(): safe to share, since it is keyed by everything that goes into it, written
    under a temporary name and renamed into place, and only ever read afterwards."""
    recipe = base_recipe()
    key = hashlib.sha256("\0".join(recipe).encode() + (
        HOST_CA_BUNDLE.read_bytes() if HOST_CA_BUNDLE.is_file() else b"")).hexdigest()[:16]
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"python-base-{key}.tar"
    if not tarball.is_file():
        partial = cache / f".python-base-{key}.{os.getpid()}.tar"
        subprocess.run([*recipe, str(partial)], check=True, capture_output=True, timeout=900)
        partial.replace(tarball)
        for old in cache.glob("python-base-*.tar"):
            if old != tarball:
                old.unlink(missing_ok=True)
    return tarball


def build_images(engine: Engine, revision: str) -> dict[str, float]:
    """The stand-in base, Hoist's image from the project's Dockerfile (as HOIST_TAG) and the
    stack's stand-ins tagged as docker-compose.yml and compose/postgres.yml name them;
    seconds each step took."""
    began = time.monotonic()
    engine.docker("import", "--change", f"ENV SSL_CERT_FILE={HOST_CA_BUNDLE}",
                  "--change", f"ENV PIP_CERT={HOST_CA_BUNDLE}", "--change", 'CMD ["python3"]',
                  base_tarball(), BASE_TAG, timeout=600)
    seconds = {"base": time.monotonic() - began}
    seconds["hoist"] = engine.build(ROOT / "Dockerfile", ROOT, HOIST_TAG,
                                    args={"PYTHON_BASE": BASE_TAG, "REVISION": revision})
    seconds["standins"] = 0.0
    for file, stages in STANDINS.items():
        services = yaml.safe_load((ROOT / file).read_text())["services"]
        seconds["standins"] += sum(
            engine.build(HERE / "standins.Dockerfile", HERE, services[service]["image"],
                         target=stage, args={"BASE": BASE_TAG})
            for service, stage in stages.items())
    return seconds
