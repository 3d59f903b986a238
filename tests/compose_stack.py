"""docker-compose.yml brought up as a user would: the Compose file, compose/ and
manifests-example/ copied beside a .env made from .env.example, run by docker-compose on a
private engine (tests/container_engine.py)."""

from __future__ import annotations

import fcntl
import json
import secrets
import shutil
import socket
import time
from pathlib import Path
from typing import IO, Any

import httpx

from bot.demo.registry import free_port
from tests.container_engine import Engine
from tests.support import ROOT

# The registry's host port is fixed: the example manifests name their images
# localhost:5000/..., and a push's name is the host and port it was pushed to.
REGISTRY_PORT = 5000
PORT_LOCK = Path("/tmp/hoist-compose-registry-5000.lock")


class ComposeStack:
    """One Compose project of the stack; `up`, `down` and what docker says about it.
    `overrides` are further Compose files (paths relative to the project, e.g.
    "compose/postgres.yml"), given after docker-compose.yml with `-f` as the README does."""

    def __init__(self, engine: Engine, workdir: Path, overrides: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self.dir = workdir
        self.files = ("docker-compose.yml", *overrides)
        self.project = f"hoiststack{secrets.token_hex(4)}"
        self.ports = {"HOST_PORT_HOIST": free_port(), "HOST_PORT_PROMETHEUS": free_port(),
                      "HOST_PORT_DEMO_APP": free_port()}
        self.secret = secrets.token_hex(16)
        self.postgres_password = secrets.token_hex(16)
        self.began = 0.0
        self._lock: IO[str] | None = None

    @property
    def hoist_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['HOST_PORT_HOIST']}"

    @property
    def prometheus_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['HOST_PORT_PROMETHEUS']}"

    def prepare(self) -> None:
        """What the README says to do: the files, and .env from .env.example with its
        change-me values changed (and HOIST_POSTGRES_PASSWORD added for the PostgreSQL
        variant)."""
        self.dir.mkdir(parents=True)
        shutil.copy(ROOT / "docker-compose.yml", self.dir)
        shutil.copytree(ROOT / "compose", self.dir / "compose")
        shutil.copytree(ROOT / "manifests-example", self.dir / "manifests-example")
        example = (ROOT / ".env.example").read_text()
        (self.dir / ".env").write_text(
            example.replace("change-me-to-a-long-random-string", self.secret)
            .replace("change-me-too", "api-" + self.secret)
            + f"HOIST_POSTGRES_PASSWORD={self.postgres_password}\n")

    def take_registry_port(self) -> None:
        """Hold the machine-wide lock on port 5000 (two runs wait for each other), and make
        sure nothing else is listening there."""
        self._lock = PORT_LOCK.open("w")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", REGISTRY_PORT)) == 0:
                raise AssertionError("something listens on 127.0.0.1:5000 (Debian's registry "
                                     "service? `systemctl stop docker-registry`)")

    def compose(self, *args: str, timeout: float = 300.0) -> str:
        env = {k: str(v) for k, v in self.ports.items()}
        files = [option for file in self.files for option in ("--file", file)]
        return self.engine.compose(self.dir, self.project, *files, *args, env=env,
                                   timeout=timeout).stdout

    def up(self) -> None:
        """`up -d` without building: the images are built and tagged beforehand."""
        self.take_registry_port()
        self.began = time.time()
        try:
            self.compose("up", "-d", "--no-build")
        except AssertionError as failed:  # say why: the services' own words
            raise AssertionError(f"{failed}\n{self.compose('logs', '--no-color')[-6000:]}") from None

    def first_events(self) -> dict[tuple[str, str], int]:
        """When (ns since the epoch) each service first did each thing since `up`: `start`,
        `die`, `health_status: healthy`; from the engine's event log, which unlike the
        healthcheck log keeps everything."""
        lines = self.engine.docker(
            "events", "--since", f"{self.began:.3f}", "--until", f"{time.time():.3f}",
            "--filter", "type=container", "--filter",
            f"label=com.docker.compose.project={self.project}", "--format", "{{json .}}").stdout
        first: dict[tuple[str, str], int] = {}
        for event in map(json.loads, lines.splitlines()):
            key = (event["Actor"]["Attributes"]["com.docker.compose.service"], event["status"])
            first.setdefault(key, int(event["timeNano"]))
        return first

    def containers(self) -> dict[str, dict[str, Any]]:
        """`docker inspect` of the project's containers, by Compose service."""
        ids = self.engine.docker("ps", "-aq", "--filter",
                                 f"label=com.docker.compose.project={self.project}").stdout.split()
        found = json.loads(self.engine.docker("inspect", *ids).stdout) if ids else []
        return {c["Config"]["Labels"]["com.docker.compose.service"]: c for c in found}

    def healthy(self) -> bool:
        """Every service with a healthcheck passes it (the seeding job has none)."""
        return all(c["State"]["Health"]["Status"] == "healthy"
                   for c in self.containers().values() if "Health" in c["State"])

    def unhealthy(self) -> str:
        """Why not healthy(): each failing service's state, last check and logs."""
        return "\n".join(
            f"{service}: {c['State']['Status']} {c['State']['Health']['Status']} "
            f"{c['State']['Health']['Log'][-1:]}\n{self.compose('logs', '--no-color', service)[-3000:]}"
            for service, c in self.containers().items()
            if "Health" in c["State"] and c["State"]["Health"]["Status"] != "healthy")

    def exec(self, service: str, *argv: str) -> str:
        return self.compose("exec", "-T", service, *argv, timeout=60)

    def promotions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{self.hoist_url}/api/promotions",
                                                timeout=5).json()["promotions"]
        return found

    def promoted(self, environment: str) -> dict[str, Any] | None:
        return next((p for p in self.promotions()
                     if p["environment"] == environment and p["state"] == "promoted"), None)

    def scraped_up(self, job: str) -> bool:
        """Prometheus has scraped `job` and found it up."""
        data = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": f'up{{job="{job}"}}'},
                         timeout=5).json()["data"]["result"]
        return any(sample["value"][1] == "1" for sample in data)

    def leftovers(self) -> dict[str, list[str]]:
        """What the engine still holds of this project: containers, volumes, networks."""
        label = f"label=com.docker.compose.project={self.project}"
        return {kind: self.engine.docker(*command, "-q", "--filter", label).stdout.split()
                for kind, command in (("containers", ("ps", "-a")), ("volumes", ("volume", "ls")),
                                      ("networks", ("network", "ls")))}

    def down(self) -> None:
        """`down -v`, and the port lock let go."""
        try:
            self.compose("down", "-v", "--remove-orphans", "--timeout", "10")
        finally:
            if self._lock is not None:
                self._lock.close()
                self._lock = None

