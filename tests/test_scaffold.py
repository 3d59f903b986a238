"""`hoist init`'s inference (bot/core/scaffold), pure: environment names and order,
values-ENV files, tag policies, targets, and the rendered hoist.yaml."""

from __future__ import annotations

import pytest

from bot.core.config import load_config
from bot.core.manifests import ManifestError
from bot.core.scaffold import (
    NothingFound,
    Scaffold,
    Target,
    is_chart_template,
    problem_line,
    references_in,
    render,
    scaffold,
)
from bot.core.scaffold.envs import env_in_name, env_of_path, order
from bot.core.scaffold.group import image_keys
from bot.core.scaffold.tag_guess import guess_pin, guess_tags

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: {image}
"""
KUSTOMIZATION = """\
images:
  - name: ghcr.io/acme/app
    newTag: "{tag}"
"""
VALUES = """\
image:
  repository: ghcr.io/acme/api
  tag: {tag}
"""


def found(files: dict[str, str]) -> Scaffold:
    refs = [r for path, text in files.items() for r in references_in(path, text)]
    return scaffold(refs, files)


@pytest.mark.parametrize(("path", "env"), [
    ("apps/app/overlays/dev/kustomization.yaml", "dev"),
    ("apps/app/overlays/production/kustomization.yaml", "production"),
    ("clusters/Staging/app.yaml", "staging"),
    ("apps/app/overlays/prod-canary/kustomization.yaml", "prod"),
    ("apps/app/overlays/eu-west-uat/kustomization.yaml", "uat"),
    ("charts/app/values-prod.yaml", "prod"),
    ("charts/app/values.staging.yaml", "staging"),
    ("charts/app/values_qa.yml", "qa"),
    ("envs/test/values.yaml", "test"),
    ("apps/app/base/deployment.yaml", None),
    ("apps/app/testdata/deployment.yaml", None),
    ("charts/app/values.yaml", None),
    ("apps/devtools/deployment.yaml", None),
])
def test_environment_from_path(path: str, env: str | None) -> None:
    hint = env_of_path(path)
    assert (hint.env if hint else None) == env


def test_file_name_wins_over_directory_and_directory_hint_names_the_directory() -> None:
    file_hint = env_of_path("envs/staging/values-prod.yaml")
    assert file_hint is not None and (file_hint.env, file_hint.origin) == ("prod", "file")
    dir_hint = env_of_path("apps/x/overlays/prod-canary/kustomization.yaml")
    assert dir_hint is not None and dir_hint.where == "apps/x/overlays/prod-canary/"


def test_names_count_by_their_last_word() -> None:
    assert env_in_name("guestbook-dev") == "dev"
    assert env_in_name("guestbook-prod-canary") is None
    assert env_in_name("prod-canary", anywhere=True) == "prod"


def test_environments_in_the_usual_order() -> None:
    assert order(["prod", "dev", "uat", "qa", "production", "staging", "test", "stage"]) == [
        "dev", "qa", "test", "stage", "staging", "uat", "prod", "production"]


@pytest.mark.parametrize(("tags", "fields"), [
    (["1.4.2", "1.4.1"], {"semver": ">=1.0.0 <2.0.0"}),
    (["v0.10.6"], {"semver": ">=0.0.0 <1.0.0"}),
    (["2.1.0", "1.9.0"], {"semver": ">=1.0.0"}),
    (["0.17.0-rc1"], {"semver": ">=0.0.0 <1.0.0", "prerelease": True}),
    (["1.0.0", "latest"], {"semver": ">=1.0.0 <2.0.0"}),
    (["abc1234", "0a1b2c3d4e5f"], {"regex": "^[0-9a-f]{7,40}$", "sort": "pushed"}),
    (["main-abc1234", "main-def5678"], {"regex": "^main-[0-9a-f]{7,40}$", "sort": "pushed"}),
    (["1234", "1240"], {"regex": r"^(\d+)$", "sort": "numeric"}),
    (["blue", "green"], {"sort": "pushed"}),
    (["3.8"], {"sort": "pushed"}),
    (["latest"], {"sort": "pushed"}),
    ([], {"sort": "pushed"}),
])
def test_tag_policy_from_the_tags_in_use(tags: list[str], fields: dict[str, object]) -> None:
    assert dict(guess_tags(tags).fields) == fields


def test_tag_guess_says_what_it_learned_from() -> None:
    assert guess_tags(["1.4.1", "1.4.2"]).note == "tag policy from the tags in use (1.4.2, 1.4.1)"
    assert "latest push wins" in guess_tags(["blue"]).note
    assert guess_tags(["latest"]).note.startswith("only mutable tags in use (latest)")


def test_pin_from_digests_in_use() -> None:
    digest = "sha256:" + "a" * 64
    assert guess_pin([("1.0.0", None)]) == ("tag", None)
    assert guess_pin([("1.0.0", digest), ("1.0.0", None)])[0] == "tag@digest"
    assert guess_pin([(None, digest)])[0] == "@digest"


def test_image_keys_are_short_and_unique() -> None:
    keys = image_keys(["ghcr.io/acme/app", "docker.io/library/redis", "public.ecr.aws/x/redis",
                       "quay.io/a/b_c"])
    assert keys == {"ghcr.io/acme/app": "app", "docker.io/library/redis": "library-redis",
                    "public.ecr.aws/x/redis": "x-redis", "quay.io/a/b_c": "b-c"}


def test_overlays_and_values_files_become_chained_environments() -> None:
    files = {
        "apps/app/base/deployment.yaml": DEPLOY.format(image="ghcr.io/acme/app:1.4.1"),
        **{f"apps/app/overlays/{env}/kustomization.yaml": KUSTOMIZATION.format(tag="1.4.2")
           for env in ("prod", "dev", "staging")},
        **{f"charts/api/values-{env}.yaml": VALUES.format(tag="2.0.0") for env in ("dev", "prod")},
        "charts/api/values.yaml": VALUES.format(tag="2.0.0"),
    }
    result = found(files)
    assert [(e.name, e.after, e.gated) for e in result.environments] == [
        ("dev", None, False), ("staging", "dev", False), ("prod", "staging", True)]
    assert result.environments[0].targets == (
        Target("apps/app/overlays/dev/kustomization.yaml", "app"),
        Target("charts/api/values-dev.yaml", "api"))
    assert result.shared == (("apps/app/base/deployment.yaml", "ghcr.io/acme/app"),
                             ("charts/api/values.yaml", "ghcr.io/acme/api"))
    assert dict(result.images[1].tags.fields) == {"semver": ">=1.0.0 <2.0.0"}
    assert "environment order dev → staging → prod" in result.guesses
    assert "prod gated on one approval" in result.guesses
    text = render(result)
    config = load_config(text)
    assert [e.name for e in config.environments] == ["dev", "staging", "prod"]
    assert config.environment("prod").approval.required == 1
    assert config.environment("dev").approval.required == 0
    assert "#   apps/app/base/deployment.yaml: ghcr.io/acme/app" in text
    assert "    # guessed: tag policy from the tags in use (1.4.2, 1.4.1)" in text


def test_argo_and_flux_names_place_references() -> None:
    app = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: guestbook-dev}
spec:
  source:
    kustomize:
      images: [ghcr.io/acme/guestbook:abc1234]
"""
    release = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: guestbook-prod}
spec:
  values:
    image: {repository: ghcr.io/acme/guestbook, tag: def5678}
"""
    result = found({"apps/guestbook.yaml": app, "apps/release.yaml": release})
    assert [(e.name, e.targets) for e in result.environments] == [
        ("dev", (Target("apps/guestbook.yaml", "guestbook"),)),
        ("prod", (Target("apps/release.yaml", "guestbook"),))]
    assert dict(result.images[0].tags.fields) == {"regex": "^[0-9a-f]{7,40}$", "sort": "pushed"}
    load_config(render(result))
    # One file holding the image for two environments is no one's target: a promotion
    # edits every reference to the image in a target file.
    both = found({"apps/guestbook.yaml": app + "---\n" + release,
                  "apps/release.yaml": release})
    assert [(e.name, e.targets) for e in both.environments] == [
        ("prod", (Target("apps/release.yaml", "guestbook"),))]
    assert both.shared == (("apps/guestbook.yaml", "ghcr.io/acme/guestbook"),)


def test_a_directory_of_files_is_one_directory_target() -> None:
    files = {f"envs/dev/{n}.yaml": DEPLOY.format(image="ghcr.io/acme/app:1.0.0") for n in "ab"}
    files["envs/prod/a.yaml"] = DEPLOY.format(image="ghcr.io/acme/app:1.0.0")
    result = found(files)
    assert result.environments[0].targets == (Target("envs/dev/", "app"),)
    assert result.environments[1].targets == (Target("envs/prod/a.yaml", "app"),)


def test_without_environment_files_one_gated_environment_covers_the_repository() -> None:
    files = {"base/app.yaml": DEPLOY.format(image="ghcr.io/acme/app@sha256:" + "b" * 64),
             "staging/kustomization.yaml": "resources: [../base]\n"}
    result = found(files)
    assert result.whole_repo and result.layout == ("staging",)
    assert [(e.name, e.gated, e.targets) for e in result.environments] == [
        ("default", True, (Target("base/app.yaml", "app"),))]
    config = load_config(render(result))
    assert config.images["app"].pin == "@digest"


def test_images_only_outside_environments_are_left_out_and_named() -> None:
    files = {"base/a.yaml": DEPLOY.format(image="ghcr.io/acme/other:1.0.0"),
             "dev/a.yaml": DEPLOY.format(image="ghcr.io/acme/app:1.0.0"),
             "prod/empty.yaml": "kind: ConfigMap\n"}
    result = found(files)
    assert [i.key for i in result.images] == ["app"]
    assert result.unplaced == ("ghcr.io/acme/other",)
    assert result.empty == ("prod",)
    assert "without an image reference of their own: prod" in render(result)


def test_no_reference_at_all_is_refused() -> None:
    with pytest.raises(NothingFound, match="no image references found"):
        found({"a.yaml": "kind: ConfigMap\n"})


def test_odd_names_are_quoted_so_the_file_reads_back() -> None:
    path = "dev/my file: x.yaml"
    refs = references_in(path, DEPLOY.format(image="10.0.0.1:5000/yes:1.0.0"))
    config = load_config(render(scaffold(refs)))
    assert config.images["yes"].repository == "10.0.0.1:5000/yes"
    assert config.environments[0].targets[0].file == path


def test_chart_templates_are_not_manifests() -> None:
    paths = {"charts/app/Chart.yaml", "charts/app/templates/deployment.yaml"}
    assert is_chart_template("charts/app/templates/deployment.yaml", paths)
    assert not is_chart_template("apps/templates/deployment.yaml", paths)


def test_problem_lines_name_file_and_line() -> None:
    with pytest.raises(ManifestError) as bad:
        references_in("a.yaml", "a: [\nb: 1\n")
    assert problem_line("a.yaml", bad.value).startswith("a.yaml:3: not valid YAML: ")
    with pytest.raises(ManifestError) as dup:
        references_in("a.yaml", "a: 1\nb: 2\na: 3\n")
    assert problem_line("a.yaml", dup.value) == "a.yaml:3: duplicate key 'a' at line 3"
