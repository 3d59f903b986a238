from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.store import Store
from bot.demo.manifests import make_manifests_repo
from bot.flows.services import Services
from bot.wiring import ConfigSource


@pytest.fixture
def manifests_url(tmp_path: Path) -> str:
    """A bare manifests repo made from manifests-example/ (registry localhost:5000)."""
    return make_manifests_repo(tmp_path / "origin")


@pytest.fixture
def services(tmp_path: Path, manifests_url: str) -> Services:
    """Real store, real git cache, local forge, config from the repo."""
    store = Store(tmp_path / "data" / "hoist.db")
    repo = GitRepo(manifests_url, tmp_path / "data" / "manifests.git")
    repo.sync()
    return Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))
