"""The Compose variant with two projects (compose/projects.yml and compose/projects.yaml,
layered on docker-compose.yml): one Hoist, two manifests repositories seeded beside it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.core.projects import load_projects
from tests.support import ROOT
from tests.test_packaging import check_compose, load


def test_two_project_variant_follows_the_spec_and_seeds_each_repository(
        tmp_path: Path) -> None:
    override = load(ROOT / "compose" / "projects.yml")
    check_compose(override)
    services = override["services"]
    hoist = services["hoist"]
    assert hoist["environment"]["HOIST_PROJECTS"] == "/compose/projects.yaml"
    assert hoist["depends_on"]["manifests-payments"] == {
        "condition": "service_completed_successfully"}
    projects = load_projects((ROOT / "compose" / "projects.yaml").read_text())
    assert projects.names == ["shop", "payments"]
    # Each project's repository is one a seeding job makes, by the same script.
    env = {**os.environ, "GIT_DIR_ROOT": str(tmp_path),
           "EXAMPLE": str(ROOT / "manifests-example")}
    for name in ("manifests", services["manifests-payments"]["environment"]["REPO_NAME"]):
        made = subprocess.run(["sh", str(ROOT / "compose" / "seed-manifests.sh")],
                              env={**env, "REPO_NAME": name}, capture_output=True, text=True,
                              check=False)
        assert made.returncode == 0, made.stderr
    for project in projects.projects:
        bare = tmp_path / project.repo.removeprefix("file:///srv/git/")
        files = subprocess.run(["git", "--git-dir", str(bare), "ls-tree", "-r",
                                "--name-only", "main"], capture_output=True, text=True,
                               check=True).stdout.split()
        assert project.config in files
