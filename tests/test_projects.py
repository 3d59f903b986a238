"""The projects file (core/projects.py) and `hoist check --projects`: many manifests
repositories in one Hoist, each named, each with its forge and credentials named only."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.projects import DEFAULT, ProjectsError, load_projects, single

GOOD = """\
projects:
  - name: shop
    repo: https://github.com/acme/shop-manifests.git
    forge: {kind: github, token_env: SHOP_GITHUB_TOKEN}
  - name: payments
    repo: file:///srv/git/payments.git
    config: deploy/hoist.yaml
    forge:
      kind: gitea
      url: http://127.0.0.1:3000
      repository: acme/payments
      token_file: /run/secrets/gitea
"""


def test_a_projects_file_names_each_repository_its_config_and_its_forge() -> None:
    projects = load_projects(GOOD)
    assert projects.names == ["shop", "payments"]
    shop, payments = projects.projects
    assert (shop.config, shop.forge.kind, shop.forge.source("token")) == (
        "hoist.yaml", "github", ("env", "SHOP_GITHUB_TOKEN"))
    assert (payments.config, payments.forge.source("token")) == (
        "deploy/hoist.yaml", ("file", "/run/secrets/gitea"))
    assert payments.forge.source("webhook_secret") is None
    assert single("file:///srv/m.git").names == [DEFAULT]


@pytest.mark.parametrize(("text", "expected"), [
    ("projects:\n  - name: Shop_1\n    repo: file:///x\n",
     "p.yaml:2: projects[0].name: 'Shop_1': use a-z"),
    ("projects:\n  - name: a\n    repo: file:///x\n    forge: {kind: github, token: ghp_x}\n",
     "p.yaml:4: projects[0].forge.token: credentials are named, never inline"),
    ("projects:\n  - name: a\n    repo: file:///x\n  - name: a\n    repo: file:///y\n",
     "p.yaml:4: projects[1].name: duplicate project 'a'"),
    ("projects:\n  - name: a\n    repo: file:///x\n    forge:\n      kind: svn\n",
     "p.yaml:5: projects[0].forge.kind: unknown forge 'svn'"),
    ("projects:\n  - name: a\n    repo: file:///x\n    config: ../hoist.yaml\n",
     "p.yaml:4: projects[0].config: '../hoist.yaml' must be a relative path"),
    ("projects:\n  - name: a\n    repo: file:///x\n    forge: {token_env: A, token_file: /b}\n",
     "p.yaml:4: projects[0].forge.token_file: give token_env or token_file, not both"),
    ("projects:\n  - name: a\n", "p.yaml:2: projects[0].repo: Field required"),
    ("projects: [\n", "p.yaml:2: (yaml):"),
    ("projects: []\n", "p.yaml:1: projects: lists no project"),
    ("projects:\n  - name: a\n    repo: https://oauth2:glpat-x@gitlab.com/a/b.git\n",
     "p.yaml:3: projects[0].repo: credentials are named, never inline"),
    ("projects:\n  - name: a\n    repo: https://ghp_x@github.com/a/b.git\n",
     "p.yaml:3: projects[0].repo: credentials are named, never inline"),
    ("projects:\n  - name: a\n    repo: https://h/x.git\n  - name: b\n    repo: https://h/x/\n",
     "p.yaml:5: projects[1].repo: the same repository as project 'a'"),
    ("projects:\n  - name: a\n    repo: git@h:x.git\n    forge: {kind: github, repository: o/x}\n"
     "  - name: b\n    repo: git@h:y.git\n    forge: {kind: github, repository: O/X}\n",
     "p.yaml:7: projects[1].forge.repository: the same repository as project 'a'"),
])
def test_each_problem_is_one_line_naming_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(ProjectsError) as caught:
        load_projects(text, "p.yaml")
    assert caught.value.problems[0].startswith(expected), caught.value.problems


def test_hoist_check_projects_exits_2_with_a_line_per_problem_and_never_shows_a_token(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "projects.yaml"
    good.write_text(GOOD)
    assert main(["check", "--projects", str(good)]) == 0
    assert "2 projects: shop, payments" in capsys.readouterr().out
    # Both files given: both checked, the worst wins; --render needs a hoist.yaml.
    broken = tmp_path / "hoist.yaml"
    broken.write_text("images: [\n")
    assert main(["check", "--projects", str(good), "--config", str(broken)]) == 2
    said = capsys.readouterr()
    assert "2 projects" in said.out and f"{broken}:" in said.err
    assert main(["check", "--projects", str(good), "--render"]) == 2
    assert "give --config FILE too" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("projects:\n  - name: Bad\n    repo: file:///x\n"
                   "  - name: b\n    repo: file:///y\n    forge: {token: hunter2}\n")
    assert main(["check", "--projects", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{bad}:2", f"{bad}:6"]
    assert "hunter2" not in "\n".join(err)


def test_every_store_command_acts_on_its_project_only_and_names_an_unknown_one(
        tmp_path: Path, manifests_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json
    import time

    from bot.adapters.store import Store
    from bot.core.events import ImagePushed
    from bot.project_settings import project_settings, read_projects
    from bot.settings import Settings
    from bot.wiring import build_services
    from bot.worker import Worker

    projects = tmp_path / "projects.yaml"
    from bot.demo.manifests import make_manifests_repo

    pay_url = make_manifests_repo(tmp_path / "pay-origin")  # a repository is one project's
    projects.write_text(f"projects:\n  - name: shop\n    repo: {manifests_url}\n"
                        f"  - name: pay\n    repo: {pay_url}\n")
    monkeypatch.setenv("HOIST_PROJECTS", str(projects))
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "data"))
    settings = Settings.from_env()
    store = Store(settings.store_url)
    shop = build_services(project_settings(settings, read_projects(settings).projects[0]),
                          store.scoped("shop"))
    shop.store.add_events([ImagePushed("distribution", "e1", "localhost:5000",
                                       "acme/guestbook", "1.4.2", "sha256:" + "c" * 64)],
                          time.time())
    for _ in range(2):
        Worker(shop).run_once()
    prod = next(p for p in shop.store.promotions() if p.environment == "prod")
    assert prod.state.value == "proposed"

    assert main(["approve", prod.id, "--project", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "hoist: no project 'nope'; known: shop, pay"
    assert main(["approve", prod.id, "--project", "pay", "--by", "alice"]) == 2
    assert capsys.readouterr().err.strip().endswith(f"no promotion {prod.id}")
    assert store.scoped("shop").promotion(prod.id).approved_by == ()
    assert main(["approve", prod.id, "--project", "shop", "--by", "alice"]) == 0
    assert store.scoped("shop").promotion(prod.id).approved_by == ("alice",)
    capsys.readouterr()

    assert main(["projects", "list", "--json"]) == 0
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["shop"]["forge"] == "local" and rows["shop"]["waiting"]["lanes"] >= 1
    assert rows["pay"]["waiting"] == {"pushes": 0, "comments": 0, "lanes": 0}
    store.close()


def test_without_a_projects_file_the_commands_say_what_they_always_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("HOIST_MANIFESTS_REPO", raising=False)
    monkeypatch.delenv("HOIST_PROJECTS", raising=False)
    monkeypatch.setenv("HOIST_FORGE", "nope")  # checked where it is used, not here
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "none"))
    assert main(["override-window", "--promotion", "X", "--by", "a", "--reason", "r"]) == 2
    assert capsys.readouterr().err.startswith("hoist: no Hoist store at ")
    assert main(["approve", "X", "--project", "shop"]) == 2
    assert capsys.readouterr().err.strip() == (
        "hoist: no project 'shop': without HOIST_PROJECTS the only project is 'default'")


def test_serve_refuses_a_bad_projects_file_in_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "projects.yaml"
    bad.write_text("projects:\n  - name: Bad\n    repo: file:///x\n")
    monkeypatch.setenv("HOIST_PROJECTS", str(bad))
    monkeypatch.setenv("HOIST_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("HOIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HOIST_MANIFESTS_REPO", raising=False)
    # Logging set up for the captured stdout would outlive this test.
    monkeypatch.setattr("bot.log.configure", lambda *args: None)
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"hoist: {bad}:2: projects[0].name: 'Bad'")
