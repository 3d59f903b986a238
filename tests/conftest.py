from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.store import Store
from bot.demo.manifests import make_manifests_repo
from bot.flows.services import Services
from bot.wiring import ConfigSource
from tests.postgres_server import PostgresServer, postgres_bin
from tests.prometheus_stack import CanaryApp

ENGINES = ["sqlite", "postgresql"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A module with `BOTH_ENGINES = True` runs each test that uses the store on SQLite and
    on PostgreSQL."""
    if getattr(metafunc.module, "BOTH_ENGINES", False) and "engine" in metafunc.fixturenames:
        metafunc.parametrize("engine", ENGINES, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session (Debian's, as root through runuser)."""
    if postgres_bin() is None:
        message = "needs postgresql (apt-get install postgresql)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The store's engine for this test: sqlite unless the module parametrizes it."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_url(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty store on the test's engine."""
    if engine == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.database()
    return f"sqlite:///{tmp_path / 'data' / 'hoist.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    found = Store(store_url)
    yield found
    found.close()


@pytest.fixture
def manifests_url(tmp_path: Path) -> str:
    """A bare manifests repo made from manifests-example/ (registry localhost:5000)."""
    return make_manifests_repo(tmp_path / "origin")


@pytest.fixture
def services(tmp_path: Path, manifests_url: str, store: Store) -> Services:
    """Real store, real git cache, local forge, config from the repo."""
    repo = GitRepo(manifests_url, tmp_path / "data" / "manifests.git")
    repo.sync()
    return Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))


@pytest.fixture
def unhealthy() -> Iterator[str]:
    """The URL of a health endpoint answering 503: a reading that shows the new version bad
    (an unreachable one only means analysis cannot tell)."""
    app = CanaryApp(health_status=503)
    yield f"http://{app.address}/healthz"
    app.stop()


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh temporary directory made this process's (and its children's, through TMPDIR)
    tempfile.gettempdir(). Short, under the system's: GnuPG's agent puts its socket in its
    home there, and a socket path holds at most 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="t-"))
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    monkeypatch.setenv("TMPDIR", str(path))
    yield path
    shutil.rmtree(path, ignore_errors=True)
