"""Bad input on the CLI: exit 2 and one line, never a traceback (issue 23 §3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.demo.manifests import make_manifests_repo
from tests.support import ROOT, need


def hoist(*args: str, cwd: Path, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, text=True,
                          capture_output=True, env={**clean, **(env or {})}, timeout=60)


def test_db_backup_into_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    env = {"HOIST_DATA_DIR": str(tmp_path / "data")}
    assert hoist("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    done = hoist("db", "backup", "nodir/x.db", cwd=tmp_path, env=env)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "nodir" in done.stderr and "create it" in done.stderr


def test_audit_into_a_pipe_closed_early_is_one_line(tmp_path: Path) -> None:
    need("git")
    url = make_manifests_repo(tmp_path / "origin", "localhost:5000")
    repo = url.removeprefix("file://")
    head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    for i in range(3000):  # more than a pipe holds
        head = subprocess.run(["git", "-C", repo, "commit-tree", f"{head}^{{tree}}", "-p",
                               head, "-m", f"chore: x\n\nHoist-Promotion: p{i}\n"
                               f"Hoist-Environment: dev\nHoist-Image: a:1.0.{i}"],
                              capture_output=True, text=True, check=True).stdout.strip()
    subprocess.run(["git", "-C", repo, "update-ref", "refs/heads/main", head], check=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOIST_")}
    audit = subprocess.Popen([sys.executable, "-m", "bot", "audit", "--repo", repo,
                              "--ref", "main"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean)
    assert audit.stdout is not None and audit.stderr is not None
    audit.stdout.readline()
    audit.stdout.close()  # like `| head -1`
    stderr = audit.stderr.read().decode()
    assert audit.wait(60) == 2
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr


def test_version_usage_and_help(tmp_path: Path) -> None:
    version = hoist("--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("hoist ")
    db = hoist("db", cwd=tmp_path)
    assert db.returncode == 0 and "upgrade" in db.stdout and "backup" in db.stdout
    for command in (["serve"], ["audit"], ["db", "backup"], ["check"]):
        text = hoist(*command, "--help", cwd=tmp_path).stdout
        assert "environment:" in text and "example:" in text, command
    assert "(default: 8080)" in hoist("serve", "--help", cwd=tmp_path).stdout
