from bot.core.config import load_config
from bot.core.events import ImagePushed
from bot.core.policy import decide_tag, first_environments, matching_images, next_environments
from tests.support import ROOT

CONFIG = load_config((ROOT / "manifests-example" / "hoist.yaml").read_text())
IMAGE = CONFIG.images["guestbook"]


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
    assert "not a semantic version" in decide_tag(IMAGE, "latest").reason
    assert not decide_tag(IMAGE, None).allowed


def test_chain_starts_at_dev_and_moves_in_order() -> None:
    assert [e.name for e in first_environments(CONFIG, "guestbook")] == ["dev"]
    assert [e.name for e in next_environments(CONFIG, "dev", "guestbook")] == ["staging"]
    assert [e.name for e in next_environments(CONFIG, "staging", "guestbook")] == ["prod"]
    assert next_environments(CONFIG, "prod", "guestbook") == []
