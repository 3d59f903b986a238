import pytest

from bot.core.images import (
    ImageRef,
    InvalidReference,
    normalize_name,
    parse_image_ref,
    same_repository,
    validate_digest,
    validate_tag,
)

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nginx", ImageRef("nginx")),
        ("nginx:1.25", ImageRef("nginx", "1.25")),
        ("localhost:5000/acme/app:1.0", ImageRef("localhost:5000/acme/app", "1.0")),
        ("localhost:5000/acme/app", ImageRef("localhost:5000/acme/app")),
        (f"ghcr.io/a/b:v1@{DIGEST}", ImageRef("ghcr.io/a/b", "v1", DIGEST)),
        (f"ghcr.io/a/b@{DIGEST}", ImageRef("ghcr.io/a/b", None, DIGEST)),
    ],
)
def test_parse_image_ref_round_trips(text: str, expected: ImageRef) -> None:
    assert parse_image_ref(text) == expected
    assert str(parse_image_ref(text)) == text


@pytest.mark.parametrize(
    "bad", ["Nginx/App", "nginx:", "nginx:-x", "a/b:1\nc: d", "a/b:{{ .Values.tag }}",
            "ghcr.io/a/b@sha256:abc", "a//b", ""],
)
def test_parse_rejects_malformed_references(bad: str) -> None:
    with pytest.raises(InvalidReference):
        parse_image_ref(bad)


def test_tag_grammar_refuses_anything_that_could_change_yaml() -> None:
    assert validate_tag("1.4.2-rc.1_b") == "1.4.2-rc.1_b"
    for bad in ["x" * 129, ".hidden", "a b", "a:b", "1.0\n", "'1.0'", "a#b"]:
        with pytest.raises(InvalidReference):
            validate_tag(bad)
    with pytest.raises(InvalidReference):
        validate_digest("sha256:" + "A" * 64)


def test_normalized_names_match_across_spellings() -> None:
    assert normalize_name("nginx") == "docker.io/library/nginx"
    assert same_repository("docker.io/library/nginx", "nginx")
    assert same_repository("index.docker.io/bitnami/redis", "bitnami/redis")
    assert not same_repository("ghcr.io/acme/app", "docker.io/acme/app")
    assert not same_repository("not a name", "nginx")


def test_the_from_version_people_read_is_the_tag_else_a_short_digest() -> None:
    from bot.core.images import readable_version

    digest = "sha256:" + "0123456789ab" + "f" * 52
    assert readable_version(f"0.5.0@{digest}") == "0.5.0"
    assert readable_version(f"@{digest}") == "sha256:0123456789ab"
    assert readable_version("0.5.0") == "0.5.0"
    assert readable_version(None) is None
