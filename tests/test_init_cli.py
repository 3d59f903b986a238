"""`hoist init` as a user runs it: on the example repository, on every corpus repository,
and its refusals (exit 2, one line, nothing written)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import Config, load_config
from tests.support import CORPUS, ROOT

EXAMPLE = ROOT / "manifests-example"
CORPUS_REPOS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """manifests-example without its hoist.yaml and demo/."""
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("hoist.yaml", "demo"))
    return target


def written(path: Path) -> Config:
    return load_config(path.read_text(), str(path))


def test_init_on_the_example_finds_its_images_and_environments(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(example)]) == 0
    out = capsys.readouterr().out
    assert "environments: dev → staging → prod" in out
    assert "guessed:" in out and "prod gated on one approval" in out
    assert out.endswith(f"wrote {example / 'hoist.yaml'}; check it with "
                        f"`hoist check --config {example / 'hoist.yaml'}`\n")
    assert main(["check", "--config", str(example / "hoist.yaml")]) == 0
    assert "ok (2 images, 3 environments)" in capsys.readouterr().out
    config = written(example / "hoist.yaml")
    assert {k: i.repository for k, i in config.images.items()} == {
        "guestbook": "localhost:5000/acme/guestbook", "podinfo": "localhost:5000/acme/podinfo"}
    assert [(e.name, e.after, e.approval.required) for e in config.environments] == [
        ("dev", None, 0), ("staging", "dev", 0), ("prod", "staging", 1)]
    # Every target of the hand-written example is found, in its environment (the example
    # splits prod into a canary `prod` and a Helm `prod-helm`).
    reference = written(EXAMPLE / "hoist.yaml")
    ours = {(e.name, t.file, t.image) for e in config.environments for t in e.targets}
    for env in reference.environments:
        for t in env.targets:
            assert (env.name.removesuffix("-helm"), t.file, t.image) in ours
    assert ("prod", "apps/guestbook/overlays/prod/kustomization.yaml", "guestbook") in ours
    text = (example / "hoist.yaml").read_text()
    assert "# guessed: tag policy from the tags in use (1.0.0)" in text
    assert "#   apps/guestbook/base/deployment.yaml: localhost:5000/acme/guestbook" in text


def test_init_never_overwrites(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example / "hoist.yaml").write_text("mine\n")
    assert main(["init", str(example)]) == 2
    assert capsys.readouterr().err == (f"hoist: {example / 'hoist.yaml'} exists; move it away "
                                       "or pass --output PATH\n")
    assert (example / "hoist.yaml").read_text() == "mine\n"
    other = example / "other.yaml"
    assert main(["init", str(example), "--output", str(other)]) == 0
    assert written(other).environments[0].name == "dev"
    assert main(["init", str(example), "--output", str(other)]) == 2
    assert capsys.readouterr().err.endswith(f"{other} exists; move it away or pass --output PATH\n")


def test_init_stdout_prints_the_file_and_writes_nothing(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(example.rglob("*"))
    assert main(["init", str(example), "--stdout"]) == 0
    captured = capsys.readouterr()
    assert load_config(captured.out).images.keys() == {"guestbook", "podinfo"}
    assert "environments: dev → staging → prod" in captured.err
    assert sorted(example.rglob("*")) == before


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing", "{}: no such directory"),
    (lambda d: d / "file.yaml", "{}: not a directory"),
    (lambda d: d / "empty", "{}: no image references found"),
])
def test_init_refusals_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    make: Callable[[Path], Path], message: str) -> None:
    (tmp_path / "file.yaml").write_text("image: a:1\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "cm.yaml").write_text("kind: ConfigMap\n")
    target = make(tmp_path)
    assert main(["init", str(target)]) == 2
    assert capsys.readouterr().err == f"hoist: {message.format(target)}\n"
    assert not (tmp_path / "empty" / "hoist.yaml").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable directories")
def test_init_refuses_an_unreadable_directory(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        assert main(["init", str(locked)]) == 2
        assert capsys.readouterr().err == f"hoist: {locked}: cannot read: Permission denied\n"
    finally:
        locked.chmod(0o755)


def test_unreadable_manifests_are_reported_and_skipped_never_fixed(
        example: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = example / "apps" / "broken.yaml"
    bad.write_text("a: [\nb: 1\n")
    huge = example / "apps" / "huge.yaml"
    huge.write_text("image: ghcr.io/acme/huge:1.0.0\n" + "#" * (4 << 20))
    outside = tmp_path / "outside.yaml"
    outside.write_text("image: ghcr.io/evil/outside:1.0.0\n")
    (example / "apps" / "dev").mkdir()
    (example / "apps" / "dev" / "link.yaml").symlink_to(outside)
    assert main(["init", str(example)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err == [f"hoist: warning: {bad}:3: not valid YAML: did not find expected ',' or "
                   "']'; skipped",
                   f"hoist: warning: {huge}:1: larger than 4 MiB; skipped"]
    assert bad.read_text() == "a: [\nb: 1\n"
    text = (example / "hoist.yaml").read_text()
    assert "huge" not in text and "evil" not in text


@pytest.mark.parametrize("repo", CORPUS_REPOS)
def test_init_on_each_corpus_repository(repo: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A hoist.yaml that `hoist check` accepts, or exit 2 with one line; no traceback."""
    target = tmp_path / repo
    shutil.copytree(CORPUS / repo, target)
    code = main(["init", str(target)])
    captured = capsys.readouterr()
    if code == 2:
        assert len(captured.err.splitlines()) == 1, captured.err
        return
    assert code == 0, captured.err
    assert main(["check", "--config", str(target / "hoist.yaml")]) == 0
    assert "warning" not in capsys.readouterr().err


def init_summary(repo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["init", str(CORPUS / repo), "--stdout"]) == 0
    return capsys.readouterr().err


def test_corpus_environments_from_overlays(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    # Flux's example: apps/staging and apps/production overlays patch a HelmRelease whose
    # only image (redis) is set in apps/base, so one environment covers the repository.
    flux = init_summary("fluxcd__flux2-kustomize-helm-example", tmp_path, capsys)
    assert ("environments: default (the layout names staging, production, without references "
            "of their own)") in flux
    # podinfo: charts/podinfo/values-prod.yaml is prod; deploy/overlays/production holds no
    # reference; deploy/bases are shared.
    podinfo = init_summary("stefanprodan__podinfo", tmp_path, capsys)
    assert "environments: prod\n  prod: 2 target(s)\n" in podinfo
    assert "environments without references of their own: production" in podinfo


def test_the_installed_command(example: Path) -> None:
    hoist = Path(sys.executable).with_name("hoist")
    first = subprocess.run([str(hoist), "init"], cwd=example, capture_output=True, text=True,
                           timeout=60)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("found 2 image(s) in ")
    assert first.stderr == ""
    again = subprocess.run([str(hoist), "init", "."], cwd=example, capture_output=True,
                           text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (
        2, "", "hoist: hoist.yaml exists; move it away or pass --output PATH\n")
    check = subprocess.run([str(hoist), "check", "--config", "hoist.yaml"], cwd=example,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
