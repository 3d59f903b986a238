"""Property tests: generated manifests with references in many styles; the guarantee holds."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.manifests import set_image
from bot.core.manifests.nodes import load_all
from tests.support import assert_only_values_changed

NAME = "ghcr.io/acme/app"
tags = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True)
quote = st.sampled_from(["", "'", '"'])
comment = st.sampled_from(["", "  # pinned", " #x", "   # {\"note\": 1}"])
indent = st.sampled_from([2, 3, 4])
newline = st.sampled_from(["\n", "\r\n"])


@st.composite
def container_doc(draw: st.DrawFn) -> tuple[str, int]:
    i = " " * draw(indent)
    q, c, old = draw(quote), draw(comment), draw(tags)
    kind = draw(st.sampled_from(["Deployment", "StatefulSet", "DaemonSet", "Job", "Rollout"]))
    other = draw(st.sampled_from(["nginx:1.25", "ghcr.io/acme/other:2", "busybox"]))
    flow = draw(st.booleans())
    if flow:
        containers = f"{i*3}containers: [{{name: a, image: {q}{NAME}:{old}{q}}}]{c}\n"
    else:
        containers = (f"{i*3}containers:\n{i*3}- name: a\n{i*3}  image: {q}{NAME}:{old}{q}{c}\n"
                      f"{i*3}- name: b\n{i*3}  image: {other}\n")
    doc = (f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n{i}name: x  # n\nspec:\n"
           f"{i}template:\n{i*2}spec:\n{containers}")
    return doc, 1


@st.composite
def kustomize_doc(draw: st.DrawFn) -> tuple[str, int]:
    q, c, old = draw(quote), draw(comment), draw(tags)
    return (f"kind: Kustomization\nimages:\n- name: {NAME}\n  newTag: {q}{old}{q}{c}\n"
            f"- name: nginx\n  newTag: '1'\n"), 1


@st.composite
def helm_doc(draw: st.DrawFn) -> tuple[str, int]:
    q, c, old = draw(quote), draw(comment), draw(tags)
    nested = draw(st.booleans())
    body = f"image:\n  repository: {NAME}\n  tag: {q}{old}{q}{c}\n  pullPolicy: IfNotPresent\n"
    if nested:
        body = "backend:\n" + "".join(f"  {line}\n" for line in body.splitlines())
    return body, 1


documents = st.lists(st.one_of(container_doc(), kustomize_doc(), helm_doc()), min_size=1,
                     max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=documents, new_tag=tags, nl=newline, bom=st.booleans())
def test_only_the_image_values_change(docs: list[tuple[str, int]], new_tag: str, nl: str,
                                      bom: bool) -> None:
    text = ("\ufeff" if bom else "") + "---\n".join(d for d, _ in docs).replace("\n", nl)
    result = set_image(text, NAME, new_tag, None)
    # One change per document whose value differs; the data round-trips exactly.
    expected = load_all(text)
    for change in result.changes:
        node = expected[change.document]
        for part in change.path[:-1]:
            node = node[part]  # type: ignore[index]
        node[change.path[-1]] = change.new  # type: ignore[index]
    assert load_all(result.text) == expected
    assert all(c.new.endswith(new_tag) for c in result.changes)
    # Bytes outside the changed values are identical.
    assert_only_values_changed(text, result.text, result.changes)
    # Editing again to the same tag changes nothing.
    assert set_image(result.text, NAME, new_tag, None).changes == ()
