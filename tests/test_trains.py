"""Release trains in the pure core: configuration, one plan for many images, the commit and
change request that list each image, merging a re-pushed member into an open set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.config import Approval, ConfigError, load_config
from bot.core.members import Member, describe_changes, merge_members, versions
from bot.core.plan import Plan, PlanError, branch_name, plan_environment
from bot.core.render import (
    approvals_reset,
    change_request_body,
    commit_message,
    parse_trailer_lists,
    revert_message,
    step_message,
    title,
)

SHOP = """\
images:
  api: {repository: ghcr.io/acme/api, tags: {semver: ">=1.0.0"}}
  web: {repository: ghcr.io/acme/web, tags: {semver: ">=1.0.0"}}
  worker: {repository: ghcr.io/acme/worker, pin: tag@digest}
  tools: {repository: ghcr.io/acme/tools}
environments:
  - name: dev
    targets:
      - {file: dev/shop.yaml, image: api}
      - {file: dev/shop.yaml, image: web}
      - {file: dev/worker.yaml, image: worker}
  - name: prod
    after: dev
    targets:
      - {file: prod/shop.yaml, image: api}
      - {file: prod/shop.yaml, image: web}
trains:
  shop:
    images: [api, web, worker]
    window: 30s
"""
DIGEST = "sha256:" + "ab" * 32
SHOP_YAML = """\
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
      - name: api
        image: ghcr.io/acme/api:1.0.0  # keep this comment
      - name: web
        image: ghcr.io/acme/web:1.0.0
"""
WORKER_YAML = "containers:\n- image: ghcr.io/acme/worker:0.1@" + "sha256:" + "00" * 32 + "\n"
TRAIN = [Member("api", "ghcr.io/acme/api", "1.1.0", None),
         Member("web", "ghcr.io/acme/web", "1.2.0", None),
         Member("worker", "ghcr.io/acme/worker", "0.2", DIGEST)]


def test_a_train_names_its_images_and_its_window() -> None:
    config = load_config(SHOP)
    assert config.trains["shop"].window == 30.0
    assert config.train_members("shop") == ["api", "web", "worker"]
    assert config.train_of("web") == "shop" and config.train_of("tools") is None
    every = load_config(SHOP.replace("images: [api, web, worker]", 'images: "*"'))
    assert every.train_members("shop") == ["api", "web", "worker", "tools"]
    assert load_config(SHOP.replace("[api, web, worker]", '["*"]')).train_of("tools") == "shop"
    assert load_config(SHOP.split("trains:")[0]).trains == {}


@pytest.mark.parametrize(("trains", "expected"), [
    ("  shop: {images: [api, web]}\n  ops: {images: [worker, web]}\n",
     "hoist.yaml:19: trains.ops.images[1]: image 'web' is in train 'shop' and in train 'ops'"),
    ("  shop: {images: [api]}\n  all: {images: '*'}\n",
     "trains.all.images: image 'api' is in train 'shop' and in train 'all'"),
    ("  api: {images: [web, worker]}\n",
     "hoist.yaml:18: trains.api: train 'api' and image 'api' would share the branch "
     "hoist/<env>/api"),
    ("  shop: {images: [api, cart]}\n", "trains.shop.images[1]: unknown image 'cart'"),
    ("  shop: {images: []}\n", "trains.shop.images: Value should have at least 1 item"),
    ("  shop: {images: [api], window: soon}\n",
     "trains.shop.window: 'soon' is not a duration like 30s"),
    ("  -shop: {images: [api]}\n", "trains.-shop: train name '-shop' must match"),
])
def test_check_refuses_trains_that_break_the_rules(trains: str, expected: str) -> None:
    text = SHOP.split("trains:")[0] + "trains:\n" + trains
    with pytest.raises(ConfigError) as caught:
        load_config(text)
    assert expected in str(caught.value)


def test_hoist_check_names_both_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hoist.yaml"
    path.write_text(SHOP + "  ops: {images: [tools, api]}\n")
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("hoist.yaml:21: trains.ops.images[1]: image 'api' is in train 'shop' "
                        "and in train 'ops': an image belongs to at most one train")
    assert "\n" not in err


def test_one_plan_edits_every_member_in_the_same_files() -> None:
    config = load_config(SHOP)
    files = {"dev/shop.yaml": SHOP_YAML, "dev/worker.yaml": WORKER_YAML}
    plan = plan_environment(config, "dev", TRAIN, files, "shop")
    assert (plan.name, plan.train) == ("shop", "shop")
    assert [f.file for f in plan.files] == ["dev/shop.yaml", "dev/worker.yaml"]
    assert plan.files[0].new_text == SHOP_YAML.replace("api:1.0.0", "api:1.1.0").replace(
        "web:1.0.0", "web:1.2.0")
    assert len(plan.files[0].changes) == 2
    assert [(m.image_key, m.old_version, m.new_version) for m in plan.images] == [
        ("api", "1.0.0", "1.1.0"), ("web", "1.0.0", "1.2.0"),
        ("worker", "0.1@sha256:" + "00" * 32, f"0.2@{DIGEST}")]
    assert plan.images[2].image == f"ghcr.io/acme/worker:0.2@{DIGEST}"
    assert branch_name(plan.name, "dev") == "hoist/dev/shop"


def test_members_already_there_or_not_deployed_are_left_out() -> None:
    config = load_config(SHOP)
    already = [Member("api", "ghcr.io/acme/api", "1.0.0", None), *TRAIN[1:]]
    plan = plan_environment(config, "prod", already, {"prod/shop.yaml": SHOP_YAML}, "shop")
    # api is at 1.0.0 already; worker has no target in prod.
    assert [m.image_key for m in plan.images] == ["web"]
    assert plan_environment(config, "prod", already[:1], {"prod/shop.yaml": SHOP_YAML},
                            "shop").is_noop


def test_a_member_without_its_reference_fails_the_whole_plan() -> None:
    config = load_config(SHOP)
    with pytest.raises(PlanError, match=r"dev/worker\.yaml: no reference to ghcr\.io/acme/worker"):
        plan_environment(config, "dev", TRAIN, {"dev/shop.yaml": SHOP_YAML,
                                                "dev/worker.yaml": "kind: ConfigMap\n"}, "shop")


def test_plans_round_trip_and_plans_stored_before_trains_still_read() -> None:
    config = load_config(SHOP)
    plan = plan_environment(config, "dev", TRAIN, {"dev/shop.yaml": SHOP_YAML,
                                                   "dev/worker.yaml": WORKER_YAML}, "shop")
    assert Plan.from_json(plan.to_json()) == plan
    stored = {  # what a promotion's plan column held before trains (one image, flat)
        "environment": "staging", "image_key": "guestbook", "repository": "ghcr.io/acme/gb",
        "image": "ghcr.io/acme/gb:1.4.2", "old_version": "1.4.1", "new_version": "1.4.2",
        "files": [{"file": "gb.yaml", "new_text": "image: ghcr.io/acme/gb:1.4.2\n",
                   "changes": [{"document": 0, "path": ["image"], "old": "ghcr.io/acme/gb:1.4.1",
                                "new": "ghcr.io/acme/gb:1.4.2"}]}]}
    old = Plan.from_json(stored)
    assert (old.name, old.train, old.version_from, old.version_to) == (
        "guestbook", None, "1.4.1", "1.4.2")
    assert title(old) == "chore(deploy): promote guestbook to 1.4.2 in staging"
    assert Plan.from_json(old.to_json()) == old


def test_the_commit_carries_one_image_trailer_per_image_and_the_train() -> None:
    config = load_config(SHOP)
    plan = plan_environment(config, "dev", TRAIN, {"dev/shop.yaml": SHOP_YAML,
                                                   "dev/worker.yaml": WORKER_YAML}, "shop")
    message = commit_message(plan, "01T", approved_by=["alice"])
    assert message.startswith("chore(deploy): promote shop in dev: api 1.1.0, web 1.2.0, "
                              "worker 0.2\n\nghcr.io/acme/api 1.0.0 → 1.1.0\n")
    trailers = parse_trailer_lists(message)
    assert trailers["Hoist-Train"] == ["shop"]
    assert trailers["Hoist-Image"] == ["ghcr.io/acme/api:1.1.0", "ghcr.io/acme/web:1.2.0",
                                       f"ghcr.io/acme/worker:0.2@{DIGEST}"]
    assert trailers["Hoist-Approved-By"] == ["alice"]
    for other in (step_message(plan, "01T", 10), revert_message(plan, "01T", "c1", "s", ["e"])):
        found = parse_trailer_lists(other)
        assert found["Hoist-Image"] == trailers["Hoist-Image"] and found["Hoist-Train"] == ["shop"]
    assert step_message(plan, "01T", 10).startswith("chore(deploy): canary shop (3 images) at 10%")


def test_the_change_request_lists_each_image_from_and_to() -> None:
    config = load_config(SHOP)
    plan = plan_environment(config, "dev", TRAIN, {"dev/shop.yaml": SHOP_YAML,
                                                   "dev/worker.yaml": WORKER_YAML}, "shop")
    body = change_request_body(plan, "none (merged automatically)")
    assert "release train **shop** in **dev**: 3 images" in body
    assert "| api | `1.0.0` | `ghcr.io/acme/api:1.1.0` |" in body
    assert "| web | `1.0.0` | `ghcr.io/acme/web:1.2.0` |" in body


def test_a_long_train_title_stays_short() -> None:
    keys = [f"svc{i:03}" for i in range(100)]
    text = "images:\n" + "".join(f"  {k}: {{repository: reg.example/{k}}}\n" for k in keys) + \
        "environments:\n  - name: dev\n    targets:\n" + \
        "".join(f"      - {{file: all.yaml, image: {k}}}\n" for k in keys) + \
        "trains:\n  platform: {images: '*', window: 5s}\n"
    manifest = "".join(f"- image: reg.example/{k}:1\n" for k in keys)
    plan = plan_environment(load_config(text), "dev",
                            [Member(k, f"reg.example/{k}", "2", None) for k in keys],
                            {"all.yaml": manifest}, "platform")
    assert plan.files[0].new_text == manifest.replace(":1\n", ":2\n")
    assert len(plan.images) == 100 and plan.version_to == "100 images"
    text_title = title(plan)
    assert len(text_title) <= 120
    assert text_title.startswith("chore(deploy): promote platform in dev: svc000 2, svc001 2")
    assert text_title.endswith(" more")
    assert len(parse_trailer_lists(commit_message(plan, "01T"))["Hoist-Image"]) == 100


def test_a_re_push_joins_the_open_set_and_the_newest_tag_wins() -> None:
    policies = {k: image.tags for k, image in load_config(SHOP).images.items()}
    open_set = TRAIN[:2]
    again = [Member("api", "ghcr.io/acme/api", "1.1.1", None),
             Member("web", "ghcr.io/acme/web", "1.1.9", None),  # older than the open 1.2.0
             Member("worker", "ghcr.io/acme/worker", "0.3", DIGEST)]
    merged = merge_members(policies, open_set, again)
    assert [(m.image_key, m.tag) for m in merged] == [("api", "1.1.1"), ("web", "1.2.0"),
                                                      ("worker", "0.3")]
    assert describe_changes(open_set, merged) == ["api 1.1.0 → 1.1.1",
                                                  f"worker added at 0.3@{DIGEST}"]
    # The same tag pushed again with a new digest: the newer push wins.
    moved = Member("api", "ghcr.io/acme/api", "1.1.0", DIGEST)
    assert merge_members(policies, open_set, [moved])[0] == moved
    assert describe_changes(open_set, open_set[:1]) == ["web dropped"]


def test_approvals_of_a_replaced_set_are_named_with_both_versions() -> None:
    gate = Approval(required=2, permission="write")
    assert versions(TRAIN[:1], None) == "1.1.0"
    assert versions([Member("api", "ghcr.io/acme/api", None, DIGEST)], None) == DIGEST
    assert versions(TRAIN[:2], "shop") == "(api 1.1.0, web 1.2.0)"
    assert approvals_reset(["bob", "carol"], "1.1.0", "1.2.0", gate) == (
        "Approvals by @bob, @carol were for 1.1.0 and no longer count: 1.2.0 needs 2 "
        "approvals from people with write permission or above.")


def test_a_notice_about_a_train_lists_each_image() -> None:
    from bot.core.notices import Kind, Notice, Subject

    subject = Subject("01T", "shop", "prod", "train shop", None, "2 images",
                      moved=("ghcr.io/acme/api 1.0.0 → 1.1.0", "ghcr.io/acme/web 1.0.0 → 1.2.0"))
    notice = Notice(Kind.PROMOTED, subject)
    assert notice.title == "shop 2 images promoted in prod"
    assert notice.text.splitlines() == ["prod: ghcr.io/acme/api 1.0.0 → 1.1.0",
                                        "prod: ghcr.io/acme/web 1.0.0 → 1.2.0"]
