"""The tag-policy cases from the field (shared/cases/policy), through public contracts.

Each case folder holds a hoist.yaml, the manifests it drives (deploy/), and scenarios: pushes
in order, each merged before the next, each `promoted` or `refused`. They are played twice:
through `hoist plan` (is the tag allowed?) as their cmd.sh does, and through the service's
webhook, worker and `GET /api/promotions` on a real git repo, where the file must hold the
tag afterwards exactly when the scenario says `promoted`. The team's neighbours of each kind
(tests/data/policy-neighbours) add `config: FILE` steps (hoist.yaml changes) and mark
refusals that only a running version explains (`downgrade: true`; `hoist plan` has none)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from bot.adapters.forges.local import LocalForge
from bot.adapters.git import GitRepo
from bot.adapters.store import Store
from bot.core.config import load_config
from bot.demo.manifests import distribution_envelope, make_manifests_repo
from bot.flows.services import Services
from bot.settings import Settings
from bot.web.app import create_app
from bot.wiring import ConfigSource
from bot.worker import Worker
from tests.support import DATA, ROOT, SHARED, commit_file, git

CASES = [SHARED / "cases" / "policy", DATA / "policy-neighbours"]
SCENARIOS = sorted(p for cases in CASES for p in cases.glob("*/scenario*.yaml")
                   if "steps" in (data := yaml.safe_load(p.read_text()))
                   and all("push" in step or "config" in step for step in data["steps"]))
TOKEN = "case-token"


def hoist(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})


def scenario_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_tag_policy_through_hoist_plan(scenario: Path, tmp_path: Path) -> None:
    case = tmp_path / "case"
    shutil.copytree(scenario.parent, case)
    data = yaml.safe_load(scenario.read_text())
    config = load_config((case / data["config"]).read_text())
    repository = config.images[data["image"]].repository
    config_file = data["config"]
    for step in data["steps"]:
        if "config" in step:
            config_file = step["config"]
        assert hoist("check", "--config", config_file, cwd=case).returncode == 0
        if "push" not in step or step.get("downgrade"):
            continue
        result = hoist("plan", "--no-render", "--config", config_file, "--image",
                       f"{repository}:{step['push']}", cwd=case)  # the tag decision only
        assert result.returncode == (0 if step["expect"] == "promoted" else 2), (step, result)
        if step["expect"] == "refused":
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
            assert str(step["push"]) in result.stderr


def deploy_text(url: str, config_path: str, image_key: str) -> dict[str, str]:
    config = load_config(git(url.removeprefix("file://"), "show", f"main:{config_path}"))
    files = {t.file for env in config.environments for t in env.targets if t.image == image_key}
    return {f: git(url.removeprefix("file://"), "show", f"main:{f}") for f in sorted(files)}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=scenario_id)
def test_tag_policy_through_the_service(scenario: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(scenario.read_text())
    url = make_manifests_repo(tmp_path / "origin", source=scenario.parent, policy=data["config"])
    store = Store(tmp_path / "data" / "hoist.db")
    repo = GitRepo(url, tmp_path / "data" / "manifests.git")
    repo.sync()
    services = Services(store, repo, LocalForge(store, repo), ConfigSource(repo, "hoist.yaml", None))
    client = TestClient(create_app(Settings(manifests_repo=url, data_dir=tmp_path,
                                            webhook_secret=TOKEN), services))
    config = load_config((scenario.parent / data["config"]).read_text())
    host, _, path = config.images[data["image"]].repository.partition("/")
    for n, step in enumerate(data["steps"]):
        if "config" in step:
            commit_file(url, "hoist.yaml", (scenario.parent / step["config"]).read_text(),
                        tmp_path / f"work-{n}")
            repo.sync()
            continue
        tag = str(step["push"])
        before = deploy_text(url, "hoist.yaml", data["image"])
        seen = {p["id"] for p in client.get("/api/promotions").json()["promotions"]}
        digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
        response = client.post("/webhooks/registry/distribution",
                               json=distribution_envelope(host, path, tag, digest),
                               headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 202, response.text
        for _ in range(3):
            Worker(services).run_once()
        promotions: list[dict[str, Any]] = client.get("/api/promotions").json()["promotions"]
        mine = [p for p in promotions if p["tag"] == tag and p["id"] not in seen]
        after = deploy_text(url, "hoist.yaml", data["image"])
        if step["expect"] == "promoted":
            assert all(p["state"] in ("promoted", "noop") for p in mine), (tag, mine)
            assert all(tag in text for text in after.values()), (tag, after)
        else:
            assert mine == [], (tag, mine)
            assert after == before
