"""Planning (pure): targets, directories, explicit paths, batching into one plan."""

from __future__ import annotations

import pytest

from bot.core.config import load_config
from bot.core.plan import PlanError, branch_name, candidate_files, plan_environment
from bot.core.render import commit_message, parse_trailers

CONFIG = load_config("""\
images:
  app: {repository: ghcr.io/acme/app, pin: tag}
environments:
  - name: dev
    targets:
      - {file: apps/, image: app}
      - {file: charts/app/values.yaml, image: app, path: backend.image.tag}
""")
DEPLOY = "spec:\n  template:\n    spec:\n      containers:\n      - image: ghcr.io/acme/app:1.0\n"


def test_directory_target_batches_every_file_into_one_plan() -> None:
    tree = ["apps/a/deploy.yaml", "apps/b/deploy.yml", "apps/c/README.md", "apps/d/other.yaml",
            "charts/app/values.yaml", "other/x.yaml"]
    candidates = candidate_files(list(CONFIG.environments[0].targets), tree)
    assert candidates == ["apps/a/deploy.yaml", "apps/b/deploy.yml", "apps/d/other.yaml",
                          "charts/app/values.yaml"]
    files = {"apps/a/deploy.yaml": DEPLOY, "apps/b/deploy.yml": DEPLOY,
             "apps/d/other.yaml": "kind: ConfigMap\n",
             "charts/app/values.yaml": "backend:\n  image:\n    tag: 1.0\n"}
    plan = plan_environment(CONFIG, "dev", "app", "1.1", None, files)
    assert [f.file for f in plan.files] == ["apps/a/deploy.yaml", "apps/b/deploy.yml",
                                            "charts/app/values.yaml"]
    # A plain 1.1 would read back as a float: the engine quotes it.
    assert plan.files[2].new_text == 'backend:\n  image:\n    tag: "1.1"\n'
    assert plan.old_version == "1.0" and plan.new_version == "1.1"
    message = commit_message(plan, "01TEST")
    assert "apps/a/deploy.yaml\napps/b/deploy.yml\ncharts/app/values.yaml\n" in message
    assert parse_trailers(message) == {"Hoist-Promotion": "01TEST",
                                       "Hoist-Image": "ghcr.io/acme/app:1.1",
                                       "Hoist-Environment": "dev"}


def test_named_file_without_the_image_or_missing_is_a_plan_error() -> None:
    config = load_config("images: {app: {repository: ghcr.io/acme/app}}\nenvironments:\n"
                         "  - {name: dev, targets: [{file: a.yaml, image: app}]}\n")
    with pytest.raises(PlanError, match=r"a\.yaml: no reference to ghcr\.io/acme/app"):
        plan_environment(config, "dev", "app", "1.1", None, {"a.yaml": "kind: ConfigMap\n"})
    with pytest.raises(PlanError, match=r"a\.yaml: not a regular file"):
        plan_environment(config, "dev", "app", "1.1", None, {"a.yaml": None})
    with pytest.raises(PlanError, match=r"a\.yaml: not valid YAML"):
        plan_environment(config, "dev", "app", "1.1", None, {"a.yaml": "a: [\n"})


def test_already_there_is_a_noop_plan() -> None:
    plan = plan_environment(CONFIG, "dev", "app", "1.0", None,
                            {"apps/a/deploy.yaml": DEPLOY,
                             "charts/app/values.yaml": "backend:\n  image:\n    tag: '1.0'\n"})
    assert plan.is_noop


def test_branch_names_are_deterministic_and_safe() -> None:
    assert branch_name("guestbook", "prod") == "hoist/prod/guestbook"
    assert branch_name("my app/x", "dev") == "hoist/dev/my-app-x"


def test_huge_files_and_yaml_bombs_are_refused_or_harmless() -> None:
    from bot.core.manifests import set_image

    config = load_config("images: {app: {repository: ghcr.io/acme/app}}\nenvironments:\n"
                         "  - {name: dev, targets: [{file: a.yaml, image: app}]}\n")
    huge = "containers:\n- image: ghcr.io/acme/app:1.0\n" + "# padding\n" * 500_000
    with pytest.raises(PlanError, match="larger than 4 MiB"):
        plan_environment(config, "dev", "app", "1.1", None, {"a.yaml": huge})
    # Billion laughs: aliases are never expanded, so this stays small and quick.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    bomb += "containers:\n- image: ghcr.io/acme/app:1.0\n"
    assert set_image(bomb, "ghcr.io/acme/app", "1.1", None).text == bomb.replace(":1.0", ":1.1")
