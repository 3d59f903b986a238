"""The pure part of the rendered diff (core/rendering): object identity, which changes are
the image's, the gate's reasons, and the section within any forge's body limit."""

from __future__ import annotations

import pytest

from bot.core.rendering import AppRender, ObjectChange, Rendered, diff_objects, parse_objects
from bot.core.rendering.gate import decide
from bot.core.rendering.objects import BadRender, Moved
from bot.flows.rendering import body_with_render

MOVED = [Moved("ghcr.io/acme/web", "1.0.0", "1.1.0@sha256:" + "a" * 64)]


def deployment(image: str, version: str = "1.0.0", replicas: int = 1) -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: prod\n"
            f"  labels: {{app.kubernetes.io/version: v{version}}}\nspec:\n  replicas: {replicas}\n"
            f"  template:\n    spec:\n      containers:\n        - name: web\n          image: {image}\n")


def test_objects_are_known_by_kind_namespace_and_name_and_lists_are_opened() -> None:
    stream = ("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, "
              "metadata: {name: a}}\n---\n" + deployment("x"))
    assert [str(o) for o in parse_objects(stream)] == ["ConfigMap/a", "Deployment/prod/web"]
    with pytest.raises(BadRender, match="Deployment/prod/web is rendered twice"):
        parse_objects(deployment("x") + "---\n" + deployment("y"), "app")
    with pytest.raises(BadRender, match="app: a rendered document is not a Kubernetes object"):
        parse_objects("just: values\n", "app")


def test_a_moved_image_and_its_version_label_are_the_images_change_and_more_is_not() -> None:
    before = parse_objects(deployment("ghcr.io/acme/web:1.0.0"))
    moved_only = parse_objects(deployment("ghcr.io/acme/web:1.1.0@sha256:" + "a" * 64, "1.1.0"))
    [change] = diff_objects(before, moved_only, MOVED)
    assert change.change == "image" and change.object == "Deployment/prod/web"
    more = parse_objects(deployment("ghcr.io/acme/web:1.1.0", "1.1.0", replicas=3))
    assert diff_objects(before, more, MOVED)[0].change == "mixed"
    other = parse_objects(deployment("ghcr.io/acme/web:1.0.0", replicas=3))
    assert diff_objects(before, other, MOVED)[0].change == "changed"
    assert diff_objects(before, before, MOVED) == []


def test_the_gate_names_the_app_and_the_other_objects() -> None:
    def other() -> AppRender:
        return AppRender("apps/web", "kustomize apps/web", changes=[
            ObjectChange("Deployment/prod/web", "image", ""),
            ObjectChange("ConfigMap/prod/settings", "changed", "")])

    quiet = AppRender("apps/web", "kustomize apps/web")
    reason = decide([quiet, other()], ["ghcr.io/acme/web"], [False, False])
    assert reason is not None
    assert "apps/web: the rendered objects change no image of ghcr.io/acme/web" in reason
    assert "objects other than those whose image moved change: ConfigMap/prod/settings" in reason
    assert decide([other()], ["ghcr.io/acme/web"], [True]) is None


@pytest.mark.parametrize("limit", [4_000, 32_767, 65_535, 65_536, 262_144])
def test_the_body_fits_every_forges_limit_and_says_where_the_rest_is(limit: int) -> None:
    changes = [ObjectChange(f"ConfigMap/prod/c{i:03d}", "changed", "+ x\n" * 300) for i in range(300)]
    rendered = Rendered([AppRender("apps/web", "kustomize apps/web", "1.31", changes)])
    body = body_with_render("Promotes **web** in **prod**.", rendered, limit, "https://h/ui/promotions/1")
    assert len(body) <= limit
    assert body.startswith("Promotes **web** in **prod**.")
    assert body.endswith("[the promotion's page](https://h/ui/promotions/1) shows all of it._")
    assert "| `ConfigMap/prod/c299` | changed |" in body or limit < 20_000  # the table first
