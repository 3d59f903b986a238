"""The published editing cases (shared/cases/edit) run as their scripts say, through
`hoist set-image`, and the neighbours of each case's kind, with the exact bytes expected."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import helm_python as helm
import pytest
import yaml

from bot.cli import main
from tests.support import SHARED

CASES = SHARED / "cases" / "edit"
SCRIPTS = sorted(CASES.glob("*/*.sh"))
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
APP = "registry.example.com/acme/app"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_published_case(script: Path, tmp_path: Path) -> None:
    case = tmp_path / script.parent.name
    shutil.copytree(script.parent, case)
    out = subprocess.run(["sh", str(case / script.name)], capture_output=True, text=True,
                         env={**os.environ, "HOIST": f"{sys.executable} -m bot"})
    assert "exit: 0" in out.stdout and "BYTES MATCH" in out.stdout, out.stdout + out.stderr


def set_image(tmp_path: Path, text: str, *images: str, name: str = "values.yaml") -> tuple[int, str]:
    """Run `hoist set-image` on one file holding text; (exit code, the file afterwards)."""
    path = tmp_path / name
    path.write_bytes(text.encode())
    args = ["set-image", str(path)]
    for image in images:
        args += ["--image", image]
    code = main(args)
    return code, path.read_bytes().decode()


# Kind 02: a written plain value some reader would type is quoted, in every shape.

NUMERIC_LOOKING = ["706798e8", "12e3", "1e-3", "0o17", "0x1F", "3108617", "y", "n", "Y", "N",
                   "yes", "on", "off", "true", "null", "1_000", "1.10", "08", "2024-01-02"]
SHAPES = {
    "kustomize": ("images:\n  - name: {app}\n    newTag: v1  # ci\n", "newTag: {new}  # ci"),
    "helm map": ("image:\n  repository: {app}\n  tag: v1\n", "tag: {new}"),
    "helm name/tag": ("image:\n  name: {app}\n  tag: v1\n", "tag: {new}"),
    "sibling tag": ("exporter:\n  image: {app}\n  imageTag: v1\n", "imageTag: {new}"),
    "flux marker": ('tag: v1 # {{"$imagepolicy": "ns:app:tag"}}\nrepo: {app} '
                    '# {{"$imagepolicy": "ns:app:name"}}\n', 'tag: {new} # {{"$imagepolicy"'),
    "flow mapping": ("image: {{repository: {app}, tag: v1}}\n", "tag: {new}}}"),
}


@pytest.mark.parametrize("tag", NUMERIC_LOOKING)
@pytest.mark.parametrize("shape", SHAPES)
def test_numeric_looking_tags_are_quoted_in_every_shape(tmp_path: Path, shape: str, tag: str) -> None:
    before, line = SHAPES[shape]
    code, after = set_image(tmp_path, before.format(app=APP), f"{APP}=:{tag}")
    assert code == 0
    assert line.format(new=f'"{tag}"') in after
    assert yaml.safe_load(after) == yaml.safe_load(before.format(app=APP).replace("v1", f'"{tag}"'))


def test_a_quoted_value_keeps_its_quotes_and_plain_tags_stay_plain(tmp_path: Path) -> None:
    text = f"a:\n  repository: {APP}\n  tag: '5d41402a'\nb:\n  repository: {APP}\n  tag: v1\n"
    assert set_image(tmp_path, text, f"{APP}=:706798e8") == (
        0, text.replace("'5d41402a'", "'706798e8'").replace("tag: v1", 'tag: "706798e8"'))
    assert set_image(tmp_path, text, f"{APP}=:v1.2.3")[1] == text.replace(
        "'5d41402a'", "'v1.2.3'").replace("tag: v1", "tag: v1.2.3")


# Kind 19: the file's own convention for a digest is kept; no key is ever added for one.

def test_tag_field_carrying_tag_at_digest_keeps_that_form_in_every_shape(tmp_path: Path) -> None:
    text = (f"helm:\n  image:\n    repository: {APP}\n    tag: \"v1@{D1}\"\n"
            f"plain:\n  image: {APP}\n  tag: v1@{D1}\n"
            f"kustomize:\n  images:\n  - name: {APP}\n    newTag: v1@{D1}\n"
            "argocd:\n  parameters:\n  - name: image.repository\n"
            f"    value: {APP}\n  - name: image.tag\n    value: 'v1@{D1}'\n")
    assert set_image(tmp_path, text, f"{APP}=:v2@{D2}") == (0, text.replace(f"v1@{D1}", f"v2@{D2}"))


def test_a_digest_pin_with_no_digest_field_goes_into_the_tag_field(tmp_path: Path) -> None:
    text = (f"helm:\n  image:\n    repository: {APP}\n    tag: v1\n    pullPolicy: Always\n"
            f"sibling:\n  image: {APP}\n  version: v1\n"
            "argocd:\n  parameters:\n  - {name: image.repository, value: " + APP + "}\n"
            "  - {name: image.tag, value: v1}\n")
    assert set_image(tmp_path, text, f"{APP}=:v2@{D2}") == (0, text.replace("v1", f"v2@{D2}"))
    # A digest alone cannot go into a tag field: refused, file untouched.
    code, after = set_image(tmp_path, text, f"{APP}=@{D2}")
    assert (code, after) == (2, text)


def test_a_digest_field_is_filled_where_the_file_has_one(tmp_path: Path) -> None:
    text = f"image:\n  repository: {APP}\n  tag: v1\n  digest: ''\n"
    assert set_image(tmp_path, text, f"{APP}=:v2@{D2}") == (
        0, text.replace("tag: v1", "tag: v2").replace("''", f"'{D2}'"))


PINNED = {
    "container": f"containers:\n- name: a\n  image: {APP}:v1@{D1}\n",
    "helm tag@digest": f"image:\n  repository: {APP}\n  tag: v1@{D1}\n",
    "helm digest field": f"image:\n  repository: {APP}\n  tag: v1\n  digest: {D1}\n",
    "kustomize digest": f"images:\n- name: {APP}\n  newTag: v1\n  digest: {D1}\n",
    "kustomize newTag@digest": f"images:\n- name: {APP}\n  newTag: v1@{D1}\n",
    "argocd kustomize": f"kustomize:\n  images:\n  - {APP}:v1@{D1}\n",
    "marker": f"ref: {APP}:v1@{D1}  # hoist: {APP}\n",
}


@pytest.mark.parametrize("shape", PINNED)
def test_a_digest_pinned_reference_is_never_moved_by_tag_alone(tmp_path: Path, shape: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    text = PINNED[shape]
    code, after = set_image(tmp_path, text, f"{APP}=:v2")
    assert (code, after) == (2, text)
    err = capsys.readouterr().err
    assert "is pinned by digest" in err and "give the digest too" in err and err.count("\n") == 1
    code, after = set_image(tmp_path, text, f"{APP}=:v2@{D2}")
    assert code == 0 and D1 not in after and D2 in after and "v2" in after


# Kind 20: `image: <repo>` with the tag beside it.

@pytest.mark.parametrize("key", ["tag", "imageTag", "version"])
def test_image_with_sibling_tag_key(tmp_path: Path, key: str) -> None:
    text = f"exporter:\n  enabled: true\n  image: {APP}\n  {key}: v1.70.0  # pinned\n"
    assert set_image(tmp_path, text, f"{APP}=:v1.71.0") == (0, text.replace("v1.70.0", "v1.71.0"))


def test_sibling_shape_with_digest_and_in_flow_style(tmp_path: Path) -> None:
    text = f"a: {{image: {APP}, tag: '1', digest: {D1}}}\n"
    assert set_image(tmp_path, text, f"{APP}=:2@{D2}") == (
        0, text.replace("'1'", "'2'").replace(D1, D2))


def test_image_with_a_tag_of_its_own_is_not_paired_with_a_sibling(tmp_path: Path) -> None:
    text = f"x:\n  image: {APP}:v1\n  version: 3\n"
    assert set_image(tmp_path, text, f"{APP}=:v2") == (0, text.replace(":v1", ":v2"))


def test_no_reference_is_said_per_file_and_exit_1_when_found_nowhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = tmp_path / "a.yaml"
    holder.write_text(f"image:\n  repository: {APP}\n  tag: v1\n")
    other = tmp_path / "b.yaml"
    other.write_text("image:\n  repository: registry.example.com/acme/other\n  tag: v1\n")
    empty_dir = tmp_path / "dir"
    empty_dir.mkdir()
    (empty_dir / "c.yaml").write_text(f"# mentions app but holds no reference\nname: {APP}\n")
    assert main(["set-image", str(holder), str(other), str(empty_dir), "--image", f"{APP}=:v2"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"{other}: no reference to {APP}",
                                         f"{empty_dir}: no reference to {APP}"]
    assert captured.out == f"{holder}: updated\n"
    before = other.read_bytes()
    assert main(["set-image", str(other), "--image", f"{APP}=:v2"]) == 1
    assert capsys.readouterr().err == f"{other}: no reference to {APP}\n"
    assert other.read_bytes() == before
    # Two images, one of them nowhere: the other is still edited, and the exit says so.
    assert main(["set-image", str(holder), "--image", f"{APP}=:v3",
                 "--image", "ghcr.io/acme/missing=:1"]) == 1
    assert "tag: v3" in holder.read_text()
    assert capsys.readouterr().err == f"{holder}: no reference to ghcr.io/acme/missing\n"


def test_partly_aliased_reference_is_edited_at_its_literal_fields(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (f"common:\n  repo: &repo {APP}\n"
            "web:\n  image:\n    repository: *repo\n    tag: v1\n"
            "images:\n- name: *repo\n  newTag: v1\n")
    assert set_image(tmp_path, text, f"{APP}=:v2") == (0, text.replace("v1", "v2"))
    assert "changes with" not in capsys.readouterr().err


def test_an_aliased_tag_changes_with_its_anchor(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    text = (f"a:\n  image:\n    repository: {APP}\n    tag: &t v1\n"
            f"b:\n  image:\n    repository: {APP}\n    tag: *t\n")
    assert set_image(tmp_path, text, f"{APP}=:v2") == (0, text.replace("v1", "v2"))
    assert "b.image.tag is an alias of a.image.tag and changes with it" in capsys.readouterr().err


# Kind 24: Argo CD helm.parameters that Helm's --set would type get forceString: true.

PARAMS = """\
spec:
  source:
    helm:
      parameters:
        - name: image.repository
          value: {app}
        - name: image.tag
          value: {tag}{extra}
        - name: replicaCount
          value: "2"
"""


@pytest.mark.parametrize(("tag", "written", "forced"), [
    ("12345678", '"12345678"', True), ("0", '"0"', True), ("true", '"true"', True),
    ("NULL", '"NULL"', True), ("tRuE", "tRuE", True), ("1.10", '"1.10"', False),
    ("0123", '"0123"', False), ("1e3", '"1e3"', False), ("v1.2.3", "v1.2.3", False),
    ("99999999999999999999", '"99999999999999999999"', False),
])
def test_helm_parameters_get_force_string_when_set_would_type_the_value(
        tmp_path: Path, tag: str, written: str, forced: bool) -> None:
    text = PARAMS.format(app=APP, tag="v1", extra="")
    code, after = set_image(tmp_path, text, f"{APP}=:{tag}")
    extra = "\n          forceString: true" if forced else ""
    assert code == 0
    assert after == PARAMS.format(app=APP, tag=written, extra=extra)
    # What Helm then gets is the string, by --set-string or --set.
    params = yaml.safe_load(after)["spec"]["source"]["helm"]["parameters"]
    entry = params[1]
    parse = helm.parse_set_string_values if entry.get("forceString") else helm.parse_set_string
    assert parse(f"{entry['name']}={entry['value']}") == {"image": {"tag": tag}}


def test_force_string_false_is_turned_true_and_flow_entries_keep_their_style(tmp_path: Path) -> None:
    text = PARAMS.format(app=APP, tag="v1", extra="\n          forceString: false")
    assert set_image(tmp_path, text, f"{APP}=:123")[1] == PARAMS.format(
        app=APP, tag='"123"', extra="\n          forceString: true")
    flow = ("parameters:\n- {name: image.repository, value: " + APP + "}\n"
            "- {name: image.tag, value: 'v1'}\n")
    assert set_image(tmp_path, flow, f"{APP}=:42")[1] == flow.replace(
        "'v1'}", "'42', forceString: true}")
    crlf = PARAMS.format(app=APP, tag="v1", extra="").replace("\n", "\r\n")
    assert set_image(tmp_path, crlf, f"{APP}=:7")[1] == PARAMS.format(
        app=APP, tag='"7"', extra="\n          forceString: true").replace("\n", "\r\n")
