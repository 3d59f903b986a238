"""`hoist set-image` and `hoist plan` as a user runs them; kustomize renders the result."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from tests.support import ROOT, need

EXAMPLE = ROOT / "manifests-example"
IMAGE = "localhost:5000/acme/guestbook"
DIGEST = "sha256:" + "a" * 64


@pytest.fixture
def example(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(EXAMPLE, target)
    return target


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_set_image_edits_every_reference_in_place(example: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(example)
    assert main(["set-image", str(example), "--image", f"{IMAGE}={IMAGE}:1.2.3"]) == 0
    after = snapshot(example)
    changed = sorted(k for k in before if before[k] != after[k])
    assert changed == ["apps/guestbook/base/deployment.yaml",
                       "apps/guestbook/overlays/dev/kustomization.yaml",
                       "apps/guestbook/overlays/prod-canary/kustomization.yaml",
                       "apps/guestbook/overlays/prod/kustomization.yaml",
                       "apps/guestbook/overlays/staging/kustomization.yaml"]
    dev = "apps/guestbook/overlays/dev/kustomization.yaml"
    assert after[dev] == before[dev].replace(b'"1.0.0"', b'"1.2.3"')
    assert capsys.readouterr().out.count(": updated") == 5
    # Nothing left to do is still success.
    assert main(["set-image", str(example), "--image", f"{IMAGE}=:1.2.3"]) == 0
    assert snapshot(example) == after


def test_set_image_dry_run_prints_diff_and_writes_nothing(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(example)
    target = example / "apps/guestbook/overlays/prod/kustomization.yaml"
    assert main(["set-image", str(target), "--dry-run", "--image", f"{IMAGE}=:1.5.0@{DIGEST}"]) == 0
    out = capsys.readouterr().out
    assert f"--- a/{target}" in out
    assert '-    newTag: "1.0.0"   # managed by Hoist' in out
    assert '+    newTag: "1.5.0"   # managed by Hoist' in out
    assert f"+    digest: {DIGEST}" in out
    assert snapshot(example) == before


def test_set_image_refuses_bad_files_and_changes_nothing(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = example / "apps/guestbook/overlays/dev/broken.yaml"
    bad.write_text(f"images:\n- name: {IMAGE}\n  newTag: [\n")
    dup = example / "apps/guestbook/overlays/dev/dup.yaml"
    dup.write_text(f"images:\n- name: {IMAGE}\n  newTag: a\n  newTag: b\n")
    before = snapshot(example)
    assert main(["set-image", str(example), "--image", f"{IMAGE}=:2.0.0"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert any(line.startswith(f"hoist: {bad}: not valid YAML") for line in lines)
    assert any(line.startswith(f"hoist: {dup}: duplicate key 'newTag'") for line in lines)
    assert snapshot(example) == before


@pytest.mark.parametrize("spec", [f"{IMAGE}=:bad tag", f"{IMAGE}", f"{IMAGE}=other/image:1",
                                  f"{IMAGE}={IMAGE}", "Not/Valid=:1"])
def test_set_image_bad_image_argument(example: Path, spec: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["set-image", str(example), "--image", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hoist: ") and err.count("\n") == 1


def test_set_image_as_a_process_is_quick_to_import() -> None:
    # set-image must not pull in the service's heavy dependencies.
    code = ("import sys, bot.cli; bot.cli.main(['set-image', '--help'])")
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                             code + "\n", ], capture_output=True, text=True)
    assert "FILE_OR_DIR" in result.stdout
    probe = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c",
         "import sys, bot.cli, bot.core.manifests, bot.adapters.files; "
         "print(sorted(m for m in ('pydantic', 'fastapi', 'ruamel', 'github', 'httpx') "
         "if m in sys.modules))"], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "[]"


def test_plan_prints_the_diff_per_environment_and_writes_nothing(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(example)
    assert main(["plan", "--config", str(example / "hoist.yaml"), "--image",
                 f"{IMAGE}:1.5.0@{DIGEST}"]) == 0
    out = capsys.readouterr().out
    assert "# dev: guestbook 1.0.0 -> 1.5.0@" in out
    assert "(approval: 2 approvals from people with write permission" in out
    assert out.count('+    newTag: "1.5.0"   # managed by Hoist') == 3
    assert snapshot(example) == before
    assert main(["plan", "--config", str(example / "hoist.yaml"), "--image",
                 f"{IMAGE}:2.0.0"]) == 2
    assert "outside" in capsys.readouterr().err
    assert main(["plan", "--config", str(example / "hoist.yaml"), "--image",
                 "ghcr.io/acme/nothing:1.0.0"]) == 2


def test_plan_of_a_train_member_names_the_train_branch(
        example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = example / "hoist.yaml"
    config.write_text(config.read_text() + "trains:\n  shop: {images: [guestbook]}\n")
    assert main(["plan", "--config", str(config), "--image", f"{IMAGE}:1.5.0@{DIGEST}"]) == 0
    assert "on hoist/dev/shop (train shop) (approval:" in capsys.readouterr().out


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_kustomize_renders_the_same_but_for_the_image(example: Path, env: str) -> None:
    need("kubectl")
    overlay = example / "apps/guestbook/overlays" / env

    def render() -> str:
        return subprocess.run(["kubectl", "kustomize", str(overlay)], capture_output=True,
                              text=True, check=True).stdout

    before = render()
    assert main(["set-image", str(overlay), "--image", f"{IMAGE}=:1.7.0@{DIGEST}"]) == 0
    after = render()
    assert f"image: {IMAGE}:1.0.0\n" in before
    assert after == before.replace(f"image: {IMAGE}:1.0.0\n", f"image: {IMAGE}:1.7.0@{DIGEST}\n")
