"""The documentation: the site builds strictly (no broken link or anchor), its references are
generated from the code, its getting-started commands run, and every warning Hoist logs has a
troubleshooting entry."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.cli import build_parser
from bot.core.config import Config
from tests.support import ROOT

DOCS = ROOT / "docs"
BIN = Path(sys.executable).parent


def hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook",
                                                  DOCS / "hooks" / "reference.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_site_builds_strictly_out_of_the_tree(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert not (ROOT / "site").exists()
    assert not (site / "hooks").exists()  # the hook is no page


def test_a_broken_anchor_fails_the_build(tmp_path: Path) -> None:
    text = (ROOT / "mkdocs.yml").read_text()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\n[there](other.md#nowhere)\n")
    (tmp_path / "docs" / "other.md").write_text("# Other\n")
    config = re.sub(r"(?ms)^(hooks|nav):.*?(?=^\S)", "", text + "\nend: 1\n").replace("end: 1\n", "")
    (tmp_path / "mkdocs.yml").write_text(config)
    result = subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "--site-dir",
                             str(tmp_path / "out")], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode != 0
    assert "#nowhere" in result.stderr


def test_hoist_yaml_reference_is_the_config_schema(site: Path) -> None:
    schema = Config.model_json_schema()
    served = json.loads((site / "reference" / "hoist.schema.json").read_text())
    assert served == schema
    page = (site / "reference" / "hoist-yaml" / "index.html").read_text()
    for name, node in schema["$defs"].items():
        assert f'id="{name.lower()}"' in page, name
        for key in node["properties"]:
            assert f"<code>{key}</code>" in page, (name, key)
    assert "duration (<code>30s</code>" in page  # durations say what they take


def test_cli_reference_covers_every_subcommand(site: Path) -> None:
    page = (site / "reference" / "cli" / "index.html").read_text()
    module = hook()
    commands = module.commands()
    assert {"serve", "init", "check", "plan", "set-image", "audit", "db backup"} <= set(commands)
    for name in commands:
        assert f'id="{name.replace(" ", "-")}"' in page, name
    serve = next(sub for name, _, sub in module._subcommands(build_parser()) if name == "serve")
    for action in serve._actions:
        for flag in action.option_strings:
            assert flag in page or flag in ("-h", "--help"), flag


def test_a_subcommand_without_its_place_fails_the_build() -> None:
    module = hook()
    with pytest.raises(Exception, match=r"not placed \['approve'"):
        module.place_commands("".join(f"<!-- generated: cli {name} -->\n"
                                      for name in module.commands() if name != "approve"), "x.md")
    with pytest.raises(Exception, match="unknown"):
        module.place_commands("<!-- generated: cli nonsense -->", "x.md")


def marked_blocks(markdown: str) -> list[str]:
    """The ```sh blocks right after a `<!-- test -->` line."""
    return re.findall(r"^<!-- test -->\n```sh\n(.*?)^```$", markdown, re.M | re.S)


def test_getting_started_commands_run(tmp_path: Path) -> None:
    blocks = marked_blocks((DOCS / "getting-started.md").read_text())
    assert len(blocks) >= 4
    script = "set -euo pipefail\n" + "\n".join(blocks)
    env = {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "LANG": "C.UTF-8"}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "hoist.yaml: ok (1 images, 2 environments)" in out
    assert "+          image: ghcr.io/acme/guestbook:1.4.2   # Hoist moves this tag" in out
    assert "# prod: guestbook 1.4.1 -> 1.4.2" in out
    pushed = subprocess.run(["git", "--git-dir", str(tmp_path / "manifests.git"), "show",
                             "main:hoist.yaml"], capture_output=True, text=True, check=True).stdout
    assert "approval: manual" in pushed


def events_worth_an_entry() -> set[str]:
    """Every event logged at warning or error level; f-string names expanded from their
    module's literal cases."""
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        text = path.read_text()
        for fstring, name in re.findall(r'log\.(?:warning|error|exception)\(\s*(f?)"([a-z_.{}]+)"',
                                        text):
            if fstring:
                prefix = name.split("{")[0]
                found |= {prefix + case for case in re.findall(r'_failed\(\s*"(\w+)"', text)}
            else:
                found.add(name)
    return found


def test_every_warning_has_a_troubleshooting_entry() -> None:
    headings = " ".join(re.findall(r"^#{2,3} (.+)$", (DOCS / "troubleshooting.md").read_text(),
                                   re.M))
    events = events_worth_an_entry()
    assert {"webhook.unauthorized", "promotion.plan_failed", "rollout.failed",
            "prometheus.unreachable"} <= events
    missing = sorted(e for e in events if f"`{e}`" not in headings)
    assert not missing, f"add these to docs/troubleshooting.md: {missing}"


def test_readme_is_the_front_door() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"^make demo ", quickstart, re.M) and re.search(r"^make test ", quickstart, re.M)
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)(?:#[^)]*)?\)", readme):
        assert (ROOT / target).exists(), target
