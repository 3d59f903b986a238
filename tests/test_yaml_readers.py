"""Every reader of the YAML reads a written tag back as the same string: PyYAML (YAML 1.1),
ruamel.yaml (YAML 1.2), Helm's go-yaml, and the real renderers, `kubectl kustomize` and the
Helm SDK, over generated sets of valid OCI tags."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from bot.cli import main
from bot.core.images import validate_tag
from bot.core.manifests.scalars import helm_set_reads_as_string, misread_by, render_scalar
from tests.support import need

WORDS = ["y", "Y", "n", "N", "yes", "Yes", "YES", "no", "NO", "on", "On", "ON", "off", "OFF",
         "true", "True", "TRUE", "false", "FALSE", "tRuE", "null", "Null", "NULL", "nan", "NaN",
         "inf", "Infinity"]
# Spellings some reader takes for a number, bool, null or date, and their plain neighbours.
TABLE = [
    "706798e8", "5d41402a", "9f86d081", "12e3", "1e-3", "1E5", "0e1", "3108617", "12345678",
    "0", "00", "08", "0123", "0o17", "0O17", "0x1F", "0X1f", "0b101", "0b-1", "1_000", "1__",
    "1_0.5", "1.10", "1.", "1.0", "10.0.1", "1.2.3", "v1.2.3", "2024-01-02", "2024-1-2",
    "2024-01-02-abc", "2024.05", "917005", "99999999999999999999", "1e400", "6e-", "e1",
    "latest", "main-706798e8", "sha-1e3", "_1", "1-0", *WORDS,
]

_TAG_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
tags = st.one_of(
    st.sampled_from(TABLE),
    st.from_regex(r"[0-9][0-9eE._-]{0,10}", fullmatch=True),
    st.from_regex(r"0[xXoObB][0-9a-fA-F_-]{1,6}", fullmatch=True),
    st.from_regex(r"[0-9a-f]{6,9}", fullmatch=True),  # short commit SHAs
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True),
).filter(lambda t: t[:1] in _TAG_START)
tag_sets = st.lists(tags, min_size=20, max_size=80, unique=True)


def test_the_table_is_valid_oci_tags() -> None:
    for tag in TABLE:
        validate_tag(tag)


@pytest.mark.parametrize(("value", "reader"), [
    ("706798e8", "YAML 1.2 core"), ("12e3", "YAML 1.2 core"), ("1e-3", "YAML 1.2 core"),
    ("0o17", "YAML 1.2 core"), ("0x1F", "YAML 1.1"), ("3108617", "YAML 1.1"), ("y", "YAML 1.1"),
    ("N", "YAML 1.1"), ("yes", "YAML 1.1"), ("on", "YAML 1.1"), ("~", "YAML 1.1"),
    ("null", "YAML 1.1"), (".inf", "YAML 1.1"), ("1_000", "YAML 1.1"), ("1.10", "YAML 1.1"),
    ("1:20", "YAML 1.1"), ("2024-01-02", "YAML 1.1"), ("08", "YAML 1.2 core"),
    ("0O17", "go-yaml"), ("1e3_", "go-yaml"), ("0b-1", "go-yaml"), ("", "YAML 1.1"),
])
def test_the_rule_names_the_reader_that_misreads_a_value(value: str, reader: str) -> None:
    rule = misread_by(value)
    assert rule is not None and rule.reader == reader and rule.source


@pytest.mark.parametrize("value", ["1.2.3", "v1.2.3", "latest", "main-706798e8", "inf", "NaN",
                                   "2024.05.01", "_1", "1-0", "e1", "nginx:1.20"])
def test_values_every_reader_reads_as_strings_stay_plain(value: str) -> None:
    assert misread_by(value) is None and render_scalar("", value) == value


def test_quoted_values_keep_their_quotes() -> None:
    assert render_scalar("'", "1.10") == "'1.10'"
    assert render_scalar('"', "v1") == '"v1"'
    assert render_scalar("", "y") == '"y"'


def _read_back(written: list[str]) -> dict[str, list[Any]]:
    """What each YAML implementation here reads from `tN: <written>` lines."""
    doc = "".join(f"t{i}: {w}\n" for i, w in enumerate(written))
    go = helm.values_from_yaml(doc)  # Helm's values reader: sigs.k8s.io/yaml, go-yaml v2
    yaml11 = yaml.safe_load(doc)
    yaml12 = YAML(typ="safe", pure=True).load(doc)
    keys = [f"t{i}" for i in range(len(written))]
    return {"go-yaml": [go[k] for k in keys], "YAML 1.1 (PyYAML)": [yaml11[k] for k in keys],
            "YAML 1.2 (ruamel.yaml)": [yaml12[k] for k in keys]}


@settings(max_examples=60, deadline=None)
@given(tag_sets)
def test_every_yaml_implementation_reads_a_written_tag_back(batch: list[str]) -> None:
    read = _read_back([render_scalar("", t) for t in batch])
    for reader, values in read.items():
        assert values == batch, reader


@settings(max_examples=60, deadline=None)
@given(tag_sets)
def test_values_the_rule_keeps_plain_are_strings_to_every_reader(batch: list[str]) -> None:
    # Plain values the rule keeps are strings to every implementation (the converse is not
    # asked: an out-of-range float is a string to Go but a number under YAML 1.2).
    plain = [t for t in batch if misread_by(t) is None]
    for reader, values in _read_back(plain).items():
        assert values == plain, reader


@settings(max_examples=60, deadline=None)
@given(tag_sets)
def test_helm_set_typing_matches_helm(batch: list[str]) -> None:
    parsed = helm.parse_set_string(",".join(f"t{i}={t}" for i, t in enumerate(batch)))
    for i, tag in enumerate(batch):
        assert (parsed[f"t{i}"] == tag) is helm_set_reads_as_string(tag), tag


# The real renderers: set-image writes each tag, kustomize and Helm render repository:TAG.

def _kustomize_render(root: Path, batch: list[str]) -> list[str]:
    containers = "".join(f"      - name: c{i}\n        image: example.com/t{i}:old\n"
                         for i in range(len(batch)))
    (root / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n"
        "    matchLabels: {app: a}\n  template:\n    metadata:\n      labels: {app: a}\n"
        f"    spec:\n      containers:\n{containers}")
    entries = "".join(f"  - name: example.com/t{i}\n    newTag: old\n" for i in range(len(batch)))
    kustomization = root / "kustomization.yaml"
    kustomization.write_text(f"resources:\n  - deployment.yaml\nimages:\n{entries}")
    assert main(["set-image", str(kustomization),
                 *[a for i, t in enumerate(batch) for a in ("--image", f"example.com/t{i}=:{t}")]]) == 0
    out = subprocess.run(["kubectl", "kustomize", str(root)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    rendered = yaml.safe_load(out.stdout)["spec"]["template"]["spec"]["containers"]
    return [c["image"] for c in rendered]


def _helm_render(root: Path, batch: list[str]) -> list[str]:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: tags\nversion: 0.1.0\n")
    # The way charts spell an image: "{{ .repository }}:{{ .tag }}".
    (chart / "templates" / "images.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: images\ndata:\n"
        "{{- range $key, $image := .Values.images }}\n"
        '  {{ $key }}: "{{ $image.repository }}:{{ $image.tag }}"\n{{- end }}\n')
    values = chart / "values.yaml"
    values.write_text("images:\n" + "".join(
        f"  t{i}:\n    repository: example.com/t{i}\n    tag: old\n" for i in range(len(batch))))
    assert main(["set-image", str(values),
                 *[a for i, t in enumerate(batch) for a in ("--image", f"example.com/t{i}=:{t}")]]) == 0
    manifests = helm.Chart.load(chart).render({}, name="tags", namespace="x", is_install=True)
    data = yaml.safe_load(manifests["tags/templates/images.yaml"])["data"]
    return [data[f"t{i}"] for i in range(len(batch))]


def _expected(batch: list[str]) -> list[str]:
    return [f"example.com/t{i}:{t}" for i, t in enumerate(batch)]


def test_kustomize_and_helm_render_every_tag_of_the_table(tmp_path: Path) -> None:
    need("kubectl")
    (tmp_path / "k").mkdir()
    assert _kustomize_render(tmp_path / "k", TABLE) == _expected(TABLE)
    assert _helm_render(tmp_path / "h", TABLE) == _expected(TABLE)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=tag_sets)
def test_kustomize_and_helm_render_every_generated_tag(tmp_path_factory: pytest.TempPathFactory,
                                                      batch: list[str]) -> None:
    need("kubectl")
    root = tmp_path_factory.mktemp("render")
    (root / "k").mkdir()
    assert _kustomize_render(root / "k", batch) == _expected(batch)
    assert _helm_render(root / "h", batch) == _expected(batch)
