import pytest

from bot.core.config import ImageConfig, load_config
from bot.core.durations import parse_duration
from bot.core.events import ImagePushed
from bot.core.policy import first_environments, matching_images, next_environments
from bot.core.tags import compare_tags, decide_tag, is_downgrade, newest
from tests.support import ROOT

CONFIG = load_config((ROOT / "manifests-example" / "demo" / "hoist.yaml").read_text())
IMAGE = CONFIG.images["guestbook"]
DIGEST = "sha256:" + "a" * 64


def image(**tags: object) -> ImageConfig:
    text = "images:\n  app:\n    repository: ghcr.io/acme/app\n"
    pin = tags.pop("pin", None)
    if pin:
        text += f"    pin: '{pin}'\n"
    if tags:
        text += "    tags:\n" + "".join(f"      {k}: {v!r}\n".replace("'", '"') if isinstance(v, str)
                                       else f"      {k}: {str(v).lower()}\n"
                                       for k, v in tags.items())
    text += "environments: [{name: dev, targets: [{file: a.yaml, image: app}]}]\n"
    return load_config(text).images["app"]


def push(repo: str = "acme/guestbook", registry: str | None = "localhost:5000",
         tag: str | None = "1.4.2") -> ImagePushed:
    return ImagePushed("distribution", "e1", registry, repo, tag, None)


def test_push_matches_configured_image_by_normalized_name() -> None:
    assert matching_images(CONFIG, push()) == ["guestbook"]
    assert matching_images(CONFIG, push(registry="ghcr.io")) == []
    assert matching_images(CONFIG, push(repo="acme/other")) == []


def test_semver_range_and_prereleases() -> None:
    assert decide_tag(IMAGE, "1.4.2").allowed
    assert decide_tag(IMAGE, "v1.9.0").allowed
    assert not decide_tag(IMAGE, "2.0.0").allowed
    assert "prerelease" in decide_tag(IMAGE, "1.5.0-rc.1").reason
    assert "not a semantic version" in decide_tag(IMAGE, "feature-x").reason
    assert not decide_tag(IMAGE, None).allowed
    assert decide_tag(image(semver=">=1.0.0", prerelease=True), "1.5.0-rc.1").allowed


def test_regex_with_numeric_sort_key_and_ignore() -> None:
    policy = image(regex=r"^main-(?P<build>\d+)$", ignore=["^main-0+$"])
    assert decide_tag(policy, "main-42").allowed
    assert not decide_tag(policy, "feature-42").allowed
    assert "ignored" in decide_tag(policy, "main-000").reason
    assert newest(policy.tags, ["main-9", "main-100", "main-42"]) == "main-100"  # not "main-9"
    assert compare_tags(policy.tags, "main-9", "main-10") < 0


def test_alphabetical_and_semver_ordering() -> None:
    assert newest(image().tags, ["2024-01-02", "2024-01-10", "2023-12-31"]) == "2024-01-10"
    assert newest(IMAGE.tags, ["1.9.0", "1.10.0", "1.2.0"]) == "1.10.0"
    assert newest(IMAGE.tags, ["v1.4.2", "1.4.2"]) == "1.4.2"  # equal: the latest push wins


def test_never_downgrade_unless_asked() -> None:
    assert is_downgrade(IMAGE.tags, "1.4.1", "1.4.2")
    assert not is_downgrade(IMAGE.tags, "1.4.3", "1.4.2")
    assert not is_downgrade(IMAGE.tags, "1.4.1", None)
    assert not is_downgrade(image(semver=">=1.0.0", allow_downgrade=True).tags, "1.0.0", "1.4.2")


def test_mutable_tags_need_a_digest_pin() -> None:
    assert "mutable" in decide_tag(image(), "latest", DIGEST).reason  # pin: tag
    assert "mutable" in decide_tag(image(pin="tag@digest"), "latest", None).reason
    assert "mutable" in decide_tag(image(pin="tag@digest"), "latest", "sha256:abc").reason
    assert decide_tag(image(pin="tag@digest"), "latest", DIGEST).allowed
    # Pinned or not, a mutable tag is no version: a semver policy still refuses it.
    assert not decide_tag(IMAGE, "latest", DIGEST).allowed


def test_durations() -> None:
    assert parse_duration("250ms") == 0.25
    assert parse_duration("5m") == 300
    assert parse_duration(3) == 3


def test_chain_starts_at_dev_and_moves_in_order() -> None:
    assert [e.name for e in first_environments(CONFIG, ["guestbook"])] == ["dev"]
    assert [e.name for e in next_environments(CONFIG, "dev", ["guestbook"])] == ["staging"]
    assert [e.name for e in next_environments(CONFIG, "staging", ["guestbook"])] == ["prod"]
    assert next_environments(CONFIG, "prod", ["guestbook"]) == []


def test_semver_policies_take_only_strict_semantic_versions() -> None:
    """akuity/kargo#2438 and neighbours: no coercion of partial or all-digit tags."""
    policy = image(semver=">=1.2.3")
    for tag in ["917005", "1.24", "2022.05", "2022.05.01", "a1b2c3d", "1.2.3.4"]:
        decision = decide_tag(policy, tag)
        assert not decision.allowed and "not a semantic version" in decision.reason, tag
    assert decide_tag(policy, "1.2.4").allowed and decide_tag(policy, "v1.10.0").allowed
    # sort: semver without a range is a semver policy too.
    assert "not a semantic version" in decide_tag(image(sort="semver"), "917005").reason


def test_prereleases_by_full_precedence() -> None:
    """fluxcd/flux2#1298: a prerelease of the bound is below it; an exact version is exact."""
    ranged = image(semver=">=2.0.300", prerelease=True)
    assert "outside" in decide_tag(ranged, "2.0.300-5-g1a2b3c4d").reason
    assert decide_tag(ranged, "2.0.330-63-gc1cfb686").allowed
    exact = image(semver="2.0.330", prerelease=True)
    assert not decide_tag(exact, "2.0.330-rc.1").allowed and decide_tag(exact, "2.0.330").allowed
    assert compare_tags(ranged.tags, "2.0.330-rc.10", "2.0.330-rc.9") > 0
    assert compare_tags(ranged.tags, "2.0.330-rc.1", "2.0.330") < 0


def test_prerelease_false_holds_under_every_ordering() -> None:
    """argoproj-labs/argocd-image-updater#426: no prerelease unless explicitly allowed;
    an explicit `prerelease: false` holds with a regex too."""
    for tags in ({"sort": "semver"}, {"semver": "*"}, {"sort": "semver", "regex": "^v"},
                 {"semver": "*", "regex": "^v"}, {"sort": "alphabetical"}, {"sort": "pushed"},
                 {"regex": "^v"}, {}):
        assert "prerelease" in decide_tag(image(**tags, prerelease=False),
                                          "v1.0.1-64.272fa09").reason, tags
        assert decide_tag(image(**tags, prerelease=True), "v1.0.1-64.272fa09").allowed, tags
        if "regex" not in tags:  # unset: refused without a regex
            assert "prerelease" in decide_tag(image(**tags), "v1.0.1-64.272fa09").reason, tags


def raw_image(tags: str) -> ImageConfig:
    """An image whose `tags:` is the given YAML flow mapping, verbatim (regexes unescaped)."""
    return load_config("images:\n  app:\n    repository: ghcr.io/acme/app\n"
                       f"    tags: {tags}\n"
                       "environments: [{name: dev, targets: [{file: a.yaml, image: app}]}]\n"
                       ).images["app"]


@pytest.mark.parametrize(("tags", "allowed", "refused"), [
    # The regex is the allow-list: its prerelease-shaped tags are the releases.
    (r"{sort: semver, regex: '^\d+\.\d+\.\d+-release-candidate$'}",
     ["1.2.3-release-candidate", "2.0.0-release-candidate"], ["1.2.3", "1.2.3-rc.1"]),
    (r"{regex: '^\d+\.\d+\.\d+-snapshot-[0-9a-f]{7}$', sort: pushed}",
     ["1.4.0-snapshot-abc1234"], ["1.4.0", "1.4.0-snapshot-xyz"]),
    (r"{semver: '>=1.0.0 <2.0.0', regex: '-rc\.\d+$'}", ["1.5.0-rc.2"], ["1.5.0", "2.0.1-rc.1"]),
    # Without a regex, unset means false, for ranges and for sort: semver.
    ("{semver: '>=1.0.0 <2.0.0'}", ["1.5.0"], ["1.5.0-rc.1"]),
    ("{sort: semver}", ["3.0.0"], ["3.0.0-beta.1"]),
])
def test_prerelease_unset_defaults_to_what_people_write(tags: str, allowed: list[str],
                                                        refused: list[str]) -> None:
    policy = raw_image(tags)
    for tag in allowed:
        assert decide_tag(policy, tag).allowed, (tags, tag, decide_tag(policy, tag).reason)
    for tag in refused:
        assert not decide_tag(policy, tag).allowed, (tags, tag)


def test_sort_pushed_has_no_order_the_last_push_wins() -> None:
    policy = image(sort="pushed").tags
    assert newest(policy, ["9c0ffee", "0a1b2c3", "5d41402"]) == "5d41402"
    assert not is_downgrade(policy, "0a1b2c3", "9c0ffee")


def test_a_named_key_sorts_when_the_regex_has_several_groups() -> None:
    policy = image(regex=r"^(main|release)-(?P<key>\d+)$").tags
    assert newest(policy, ["release-10", "main-100", "main-9"]) == "main-100"
    assert is_downgrade(policy, "main-8", "release-10")


def test_a_running_tag_todays_policy_does_not_allow_is_not_compared() -> None:
    """After a policy change (regex -> semver), `link-1234` orders nothing: no downgrade."""
    semver = image(semver=">=1.0.0").tags
    assert not is_downgrade(semver, "1.0.0", "link-1234")
    assert not is_downgrade(image(semver=">=2.0.0").tags, "2.0.0", "1.9.0")  # outside today's
    assert is_downgrade(semver, "1.0.0", "1.4.2")


def test_a_catastrophic_regex_answers_at_once() -> None:
    # Python's backtracking `re` takes about 2**41 steps on this tag; RE2 takes 42.
    img = image(regex="^(?:a+)+$")
    assert decide_tag(img, "a" * 41 + "b").allowed is False
    assert decide_tag(img, "a" * 41).allowed is True
    assert decide_tag(image(regex="^(a+)+$"), "a" * 41 + "b").allowed is False
    ignoring = image(regex="^v(?P<key>[0-9]+)$", ignore=["^(v|v)*$"])
    assert decide_tag(ignoring, "v" * 60).allowed is False
    assert compare_tags(ignoring.tags, "v10", "v9") == 1
