"""The image built from the project's Dockerfile and the Compose stack, run under a real
engine (Debian's dockerd, tests/container_engine.py) as a user would run them.

`-m container` selects these; `make test` runs them beside the rest of the suite."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.demo.manifests import make_manifests_repo
from bot.demo.registry import LocalRegistry, free_port, write_oci_layout
from tests.compose_stack import ComposeStack
from tests.container_engine import HOIST_TAG, Engine, build_images, need_engine
from tests.support import ROOT, need, wait_for

pytestmark = pytest.mark.container

COMPILERS = ("cc", "gcc", "g++", "c++", "clang", "tcc")


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    need_engine()
    engine = Engine.started()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def revision() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def image(engine: Engine, revision: str) -> str:
    """Hoist's image and the stack's stand-ins, built once for the module."""
    build_images(engine, revision)
    return HOIST_TAG


def host_git(bare: Path, *args: str) -> str:
    """git on the host, reading a repository the container's user (10001) owns."""
    return subprocess.run(["git", "-c", "safe.directory=*", "--git-dir", str(bare), *args],
                          check=True, capture_output=True, text=True).stdout


# --- The image ----------------------------------------------------------------------------------

def test_hoist_help_runs_in_the_image(engine: Engine, image: str) -> None:
    result = engine.docker("run", "--rm", image, "--help")
    assert result.stdout.startswith("usage: hoist")
    assert "serve" in result.stdout and "set-image" in result.stdout


def test_labels_carry_the_projects_version_and_the_built_revision(engine: Engine, image: str,
                                                                  revision: str) -> None:
    labels = json.loads(engine.docker("image", "inspect", "--format",
                                      "{{json .Config.Labels}}", image).stdout)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert labels["org.opencontainers.image.version"] == version
    assert labels["org.opencontainers.image.revision"] == revision
    assert labels["org.opencontainers.image.source"].startswith("https://")


def test_the_final_stage_has_no_compiler(engine: Engine, image: str) -> None:
    found = engine.docker("run", "--rm", "--entrypoint", "sh", image, "-c",
                          f'for c in {" ".join(COMPILERS)}; do command -v "$c"; done; '
                          # gcc-12-base is libgcc's, not a compiler
                          "dpkg-query -W -f '${Package}\\n' | grep -E '^(gcc|g\\+\\+|cpp|clang)(-[0-9.]+)?$'",
                          check=False)
    assert found.stdout == ""


def test_read_only_container_serves_promotes_a_real_push_and_stops_on_sigterm(
        engine: Engine, image: str, tmp_path: Path) -> None:
    need("git", "docker-registry", "skopeo")
    registry_port, hoist_port = free_port(), free_port()
    registry_host = f"localhost:{registry_port}"
    origin = Path(make_manifests_repo(tmp_path / "origin", registry_host).removeprefix("file://"))
    subprocess.run(["chown", "-R", "10001:10001", str(origin)], check=True)
    token, name, volume = secrets.token_hex(16), f"hoist-{secrets.token_hex(4)}", "hoist-state"
    engine.docker("run", "--detach", "--name", name, "--network", engine.network,
                  # As the chart runs it: read-only, no capabilities, no privilege gain.
                  "--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges",
                  "--tmpfs", "/tmp", "--volume", f"{volume}:/var/lib/hoist",
                  "--volume", f"{origin}:/srv/git/manifests.git",
                  "--publish", f"127.0.0.1:{hoist_port}:8080",
                  "--env", "HOIST_MANIFESTS_REPO=file:///srv/git/manifests.git",
                  "--env", f"HOIST_WEBHOOK_SECRET={token}", "--env", "HOIST_POLL_INTERVAL=0.2",
                  image)
    url = f"http://127.0.0.1:{hoist_port}"
    registry = LocalRegistry(tmp_path / "registry", registry_port,
                             f"{url}/webhooks/registry/distribution", token)
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        # The Dockerfile's HEALTHCHECK gives it a 10 s start period.
        wait_for(healthy, "/healthz from the read-only container", timeout=10)
        status = engine.docker("exec", name, "cat", "/proc/1/status").stdout
        assert re.search(r"^Uid:\s+10001\s+10001\s+10001\s+10001$", status, re.M)
        assert re.search(r"^Gid:\s+10001\s+10001\s+10001\s+10001$", status, re.M)

        registry.start()
        digest = write_oci_layout(tmp_path / "layout", "1.4.2", "v1.4.2")
        registry.push(tmp_path / "layout", "1.4.2", "acme/guestbook")

        def promoted_in_dev() -> bool:
            promotions = httpx.get(f"{url}/api/promotions", timeout=5).json()["promotions"]
            return any(p["environment"] == "dev" and p["state"] == "promoted" for p in promotions)

        try:
            wait_for(promoted_in_dev, "dev promoted from the real push", timeout=60)
        except BaseException:  # say why: the container's own words
            said = engine.docker("logs", name, check=False)
            print((said.stdout + said.stderr)[-8000:])
            raise
        message = host_git(origin, "log", "--format=%B", "main")
        assert "Hoist-Environment: dev" in message
        assert f"Hoist-Image: {registry_host}/acme/guestbook:1.4.2@{digest}" in message
        dev = host_git(origin, "show", "main:apps/guestbook/overlays/dev/kustomization.yaml")
        assert f"digest: {digest}" in dev and re.search(r'newTag: "?1\.4\.2"?', dev)

        # `docker stop` sends SIGTERM and, 10 s later, SIGKILL (exit 137): Hoist must be
        # gone before that, having drained its worker.
        engine.docker("stop", "--time", "10", name, timeout=30)
        state = json.loads(engine.docker("inspect", "--format", "{{json .State}}", name).stdout)
        assert state["ExitCode"] != 137 and not state["OOMKilled"], state
        logs = engine.docker("logs", name)
        assert '"event": "worker.stopped"' in logs.stdout + logs.stderr
        assert token not in logs.stdout + logs.stderr
    finally:
        registry.stop()
        engine.docker("rm", "--force", "--volumes", name, check=False)
        engine.docker("volume", "rm", volume, check=False)


# --- The Compose stack --------------------------------------------------------------------------

def push_from_host(tmp_path: Path, tag: str) -> str:
    """The README's push: an image from the host to the stack's localhost:5000 as
    acme/guestbook:tag; returns its digest."""
    digest = write_oci_layout(tmp_path / "layout", tag, f"guestbook {tag}")
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                    f"oci:{tmp_path / 'layout'}:{tag}", f"docker://localhost:5000/acme/guestbook:{tag}"],
                   check=True, capture_output=True, timeout=60)
    return digest


def test_compose_stack_comes_up_in_order_promotes_a_push_and_leaves_nothing(
        engine: Engine, image: str, tmp_path: Path) -> None:
    need("skopeo")
    stack = ComposeStack(engine, tmp_path / "stack")
    stack.prepare()
    volumes_before = set(engine.docker("volume", "ls", "-q").stdout.split())
    try:
        stack.up()
        assert stack.containers()["manifests"]["State"]["ExitCode"] == 0
        # `up -d` has waited for every service something depends on; Prometheus is last.
        containers = wait_for(lambda: stack.healthy() and stack.containers(),
                              "every service healthy", timeout=60)
        assert {s for s, c in containers.items() if "Health" in c["State"]} == {
            "hoist", "registry", "prometheus", "demo-app"}
        first = stack.first_events()
        healthy = "health_status: healthy"
        # The seeding job wrote its volume (as 10001) and finished before Hoist started...
        assert first["manifests", "die"] < first["hoist", "start"]
        # ...and each service started once those it depends on were healthy.
        assert first["hoist", healthy] < first["registry", "start"]
        assert max(first[s, healthy] for s in ("hoist", "registry", "demo-app")) < \
            first["prometheus", "start"]

        digest = push_from_host(tmp_path, "1.1.0")
        dev = wait_for(lambda: stack.promoted("dev"), "dev promoted in the stack", timeout=60)
        assert (dev["tag"], dev["digest"]) == ("1.1.0", digest)
        log = stack.exec("hoist", "git", "--git-dir", "/srv/git/manifests.git", "log",
                         "--format=%B", "main")
        assert f"Hoist-Image: localhost:5000/acme/guestbook:1.1.0@{digest}" in log
        # Inside Hoist the name pushed to is the stack's registry: Hoist's own registry
        # client reads the pushed manifest back by that name.
        resolved = stack.exec("hoist", "python", "-c",
                              "from bot.adapters.registry import RegistryClient; print("
                              "RegistryClient().resolve('localhost:5000/acme/guestbook', '1.1.0'))")
        assert resolved.strip() == digest

        wait_for(lambda: stack.scraped_up("hoist") and stack.scraped_up("registry"),
                 "Prometheus scraping Hoist and the registry", timeout=60)
    finally:
        stack.down()
    assert stack.leftovers() == {"containers": [], "volumes": [], "networks": []}
    assert set(engine.docker("volume", "ls", "-q").stdout.split()) == volumes_before  # anonymous too


def test_postgres_variant_comes_up_in_order_and_keeps_promotions_in_postgres(
        engine: Engine, image: str, tmp_path: Path) -> None:
    """The README's `-f docker-compose.yml -f compose/postgres.yml`: postgres (a stand-in
    from Debian's package under the official image's name and contract), Hoist on it and a
    second Hoist with `--role worker`."""
    need("skopeo")
    stack = ComposeStack(engine, tmp_path / "stack", ("compose/postgres.yml",))
    stack.prepare()
    volumes_before = set(engine.docker("volume", "ls", "-q").stdout.split())
    try:
        stack.up()
        try:
            containers = wait_for(lambda: stack.healthy() and stack.containers(),
                                  "every service healthy", timeout=60)
        except pytest.fail.Exception:
            raise AssertionError(stack.unhealthy()) from None
        assert {s for s, c in containers.items() if "Health" in c["State"]} == {
            "postgres", "hoist", "hoist-worker", "registry", "prometheus", "demo-app"}
        first = stack.first_events()
        healthy = "health_status: healthy"
        assert first["manifests", "die"] < first["hoist", "start"]
        # Neither Hoist process starts before PostgreSQL answers over TCP; the worker waits
        # for the one that migrates the store.
        assert first["postgres", healthy] < first["hoist", "start"]
        assert max(first["postgres", healthy], first["hoist", healthy]) < \
            first["hoist-worker", "start"]
        assert sum(status == "start" for _, status in first) == len(containers)  # no restarts
        ready = httpx.get(f"{stack.hoist_url}/readyz", timeout=5).json()
        assert (ready["engine"], ready["role"], ready["status"]) == ("postgresql", "all", "ready")
        worker = json.loads(stack.exec("hoist-worker", "python", "-c", WORKER_READYZ))
        assert (worker["engine"], worker["role"], worker["status"]) == (
            "postgresql", "worker", "ready")

        digest = push_from_host(tmp_path, "1.2.0")
        dev = wait_for(lambda: stack.promoted("dev"), "dev promoted in the stack", timeout=60)
        assert (dev["tag"], dev["digest"]) == ("1.2.0", digest)
        # The rows are PostgreSQL's, read with its own client as the README's user would.
        rows = stack.exec("postgres", "psql", "-U", "hoist", "-d", "hoist", "-tA", "-F", " ",
                          "-c", "select environment, tag, digest from promotions "
                          "where state = 'promoted'")
        assert f"dev 1.2.0 {digest}" in rows.splitlines()
    finally:
        stack.down()
    assert stack.leftovers() == {"containers": [], "volumes": [], "networks": []}
    assert set(engine.docker("volume", "ls", "-q").stdout.split()) == volumes_before


# The worker publishes no port: ask its /readyz from inside (it shares Hoist's network).
WORKER_READYZ = ("import urllib.request; "
                 "print(urllib.request.urlopen('http://127.0.0.1:8090/readyz', timeout=4).read().decode())")
