"""The editing engine, on hand-written cases and on every file of ../shared/corpus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.manifests import ManifestError, find_references, set_image
from bot.core.manifests.nodes import load_all
from bot.core.manifests.rewrite import pinned_by_digest
from tests.support import CORPUS, assert_only_values_changed

DIGEST = "sha256:" + "b" * 64
CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and (p.suffix in (".yaml", ".yml")
                                                      or p.name == "Kustomization")
)


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_corpus_has_files() -> None:
    assert len(CORPUS_FILES) > 50


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_every_corpus_reference_edits_only_its_value(path: Path) -> None:
    text = read(path)
    sites = find_references(text)
    for name in dict.fromkeys(s.name for s in sites):
        # A digest-pinned reference is only moved with a digest.
        has_digest = any(s.field("digest") or pinned_by_digest(s) for s in sites
                         if s.name == name)
        result = set_image(text, name, "9.9.9", DIGEST if has_digest else None)
        assert result.changes, name
        # The data is the input's with exactly the intended values replaced.
        expected: list[Any] = load_all(text)
        for change in result.changes:
            node = expected[change.document]
            for part in change.path[:-1]:
                node = node[part]
            if change.old is not None:  # "0.1" was the float 0.1 before; now it is a string
                assert node[change.path[-1]] in (change.old, yaml.safe_load(change.old))
            node[change.path[-1]] = change.new
        assert load_all(result.text) == expected
        # The text differs only where an old value became its new value.
        assert_only_values_changed(text, result.text, result.changes)


def test_corpus_finds_the_references_people_expect() -> None:
    podinfo = read(CORPUS / "stefanprodan__podinfo/kustomize/deployment.yaml")
    assert [s.name for s in find_references(podinfo)] == ["ghcr.io/stefanprodan/podinfo"]
    cronjob = read(CORPUS / "stefanprodan__podinfo/deploy/bases/database/cronjob-backup-daily.yaml")
    assert find_references(cronjob)[0].path[:6] == ("spec", "jobTemplate", "spec", "template",
                                                    "spec", "containers")
    kustomization = read(CORPUS / "GoogleCloudPlatform__microservices-demo/kubernetes-manifests"
                         "/kustomization.yaml")
    assert all(s.kind == "kustomize" for s in find_references(kustomization))


def test_containers_and_init_containers_in_every_document() -> None:
    text = (
        "kind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n"
        "        - name: init\n          image: ghcr.io/acme/app:1.0  # pinned\n"
        "      containers:\n        - {name: app, image: 'ghcr.io/acme/app:1.0'}\n"
        "---\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
        '        - name: migrate\n          image: "ghcr.io/acme/app:1.0"\n'
    )
    result = set_image(text, "ghcr.io/acme/app", "1.1", None)
    assert len(result.changes) == 3
    assert result.text == text.replace("app:1.0", "app:1.1")


def test_kustomize_newtag_keeps_quotes_and_comment_and_adds_digest_in_place() -> None:
    text = 'images:\n  - name: ghcr.io/acme/app\n    newTag: "1.0"   # managed\n  - name: other\n'
    result = set_image(text, "ghcr.io/acme/app", "1.10", DIGEST, pin="tag@digest")
    assert result.text == (
        'images:\n  - name: ghcr.io/acme/app\n    newTag: "1.10"   # managed\n'
        f"    digest: {DIGEST}\n  - name: other\n"
    )


def test_plain_values_that_would_change_type_are_quoted() -> None:
    text = "images:\n- name: app\n  newTag: v1\n"
    assert set_image(text, "app", "1.10", None).text == 'images:\n- name: app\n  newTag: "1.10"\n'


def test_crlf_and_bom_survive() -> None:
    text = "\ufeffkind: Pod\r\nspec:\r\n  containers:\r\n  - name: a\r\n    image: nginx:1.0\r\n"
    result = set_image(text, "docker.io/library/nginx", "1.1", None)
    assert result.text == text.replace("nginx:1.0", "nginx:1.1")


def test_new_name_entries_match_by_new_name() -> None:
    text = "images:\n- name: app\n  newName: ghcr.io/acme/app\n  newTag: 1.0.0\n"
    result = set_image(text, "ghcr.io/acme/app", "1.2.0", None)
    assert result.text == text.replace("1.0.0", "1.2.0")
    assert set_image(text, "app", "1.2.0", None).changes == ()


def test_flow_style_entry_gets_key_inside_braces() -> None:
    text = "images: [{name: app, newName: ghcr.io/acme/app}]\n"
    result = set_image(text, "ghcr.io/acme/app", "2.0.0", None)
    assert result.text == "images: [{name: app, newName: ghcr.io/acme/app, newTag: 2.0.0}]\n"


def test_invalid_yaml_and_duplicate_keys_are_reported_not_fixed() -> None:
    with pytest.raises(ManifestError, match="not valid YAML"):
        set_image("a: [\n", "nginx", "1", None)
    with pytest.raises(ManifestError):
        set_image("spec:\n  containers:\n  - image: nginx:1\n    image: nginx:2\n", "nginx", "3", None)


def test_unsafe_values_never_reach_yaml() -> None:
    text = "containers:\n- image: nginx:1.0\n"
    for bad in ["1.0\nx: y", "a b", "'1'"]:
        with pytest.raises(ValueError):
            set_image(text, "nginx", bad, None)


def test_anchored_value_is_refused_rather_than_changing_aliases() -> None:
    text = "x: &v nginx:1.0\ncontainers:\n- image: *v\n- image: nginx:1.0\n"
    with pytest.raises(ManifestError):
        set_image(text, "nginx", "2.0", None)


def test_templates_and_placeholders_are_not_references() -> None:
    text = "containers:\n- image: '{{ .Values.image }}'\n- image: $(IMAGE)\n"
    assert find_references(text) == []


@pytest.mark.parametrize(("after", "why"), [
    ("a: x\nb: 2.0\nc: [1, 2]\n", "value at"),  # another value changed
    ("a: x\nb: '1.0'\nc: [1, 2]\n", "type at"),  # the old value, but now a string
    ("a: x\nb: 1.0\nc: [1]\n", "length"),
    ("a: x\nb: 1.0\n", "keys lost"),
    ("a: x\nb: 1.0\nc: [1, 2]\nd: 3\n", "new node"),
    ("a: [x\n", "break the file"),
])
def test_verification_catches_any_other_difference(after: str, why: str) -> None:
    from bot.core.manifests.nodes import compose
    from bot.core.manifests.verify import verify_edit

    before = compose("a: 1\nb: 1.0\nc: [1, 2]\n")
    verify_edit(before, "a: x\nb: 1.0\nc: [1, 2]\n", {(0, ("a",)): "x"})
    with pytest.raises(ManifestError, match=why):
        verify_edit(before, after, {(0, ("a",)): "x"})


def test_verification_keeps_aliases_aliases() -> None:
    from bot.core.manifests.nodes import compose
    from bot.core.manifests.verify import verify_edit

    before = compose("a: &x {k: 1}\nb: *x\n")
    verify_edit(before, "a: &x {k: 1}\nb: *x\n", {})
    with pytest.raises(ManifestError, match="alias"):
        verify_edit(before, "a: &x {k: 1}\nb: {k: 1}\n", {})
