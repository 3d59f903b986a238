import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.sources import SOURCES, AuthError, PayloadError
from tests.support import DATA, FIXTURES

SOURCE = SOURCES["distribution"]
PUBLISHED = FIXTURES / "registry" / "distribution" / "push_envelope.json"
RECORDED = DATA / "distribution-2.8-manifest-push.json"


def test_published_envelope_has_no_tagged_push() -> None:
    # The docs' example holds one untagged manifest push and two blob pushes: none promotes.
    assert SOURCE.parse({}, PUBLISHED.read_bytes()) == []


def test_recorded_registry_push_becomes_one_image_pushed() -> None:
    [push] = SOURCE.parse({}, RECORDED.read_bytes())
    assert push.to_public_json() == {
        "registry": "localhost:5000",
        "repository": "acme/guestbook",
        "tag": "1.4.2",
        "digest": "sha256:0b2dd1712a2061cebb7a7120bf2961c4417300ebb51ad35f0ef0b65336be05e5",
    }
    assert push.event_id == "290a00ed-c457-4874-acf4-5c563dda3dca"


def test_blob_pull_and_delete_events_are_ignored() -> None:
    assert SOURCE.parse({}, (DATA / "distribution-2.8-blob-push.json").read_bytes()) == []
    envelope = json.loads(RECORDED.read_bytes())
    event = envelope["events"][0]
    for action in ("pull", "delete", "mount"):
        body = json.dumps({"events": [{**event, "action": action}]}).encode()
        assert SOURCE.parse({}, body) == []


def test_envelope_with_several_tagged_pushes_yields_each() -> None:
    event = json.loads(RECORDED.read_bytes())["events"][0]
    second = {**event, "id": "other", "target": {**event["target"], "tag": "1.4.3"}}
    body = json.dumps({"events": [event, second]}).encode()
    assert [p.tag for p in SOURCE.parse({}, body)] == ["1.4.2", "1.4.3"]


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"events": 3}', b'{"events": [1]}'])
def test_malformed_bodies_raise_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        SOURCE.parse({}, body)


def test_bearer_token_checked() -> None:
    SOURCE.verify({"authorization": "Bearer s3cret"}, b"", "s3cret")
    for header in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret"}):
        with pytest.raises(AuthError):
            SOURCE.verify(header, b"", "s3cret")


def test_parse_event_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-event", "--source", "distribution", str(RECORDED)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["tag"] for line in lines] == ["1.4.2"]
    assert main(["parse-event", "--source", "distribution", str(PUBLISHED),
                 "--header", "Content-Type: application/json"]) == 0
    assert capsys.readouterr().out == ""
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    for argv in (["--source", "distribution", str(bad)], ["--source", "nope", str(RECORDED)],
                 ["--source", "distribution", "--header", "oops", str(RECORDED)],
                 ["--source", "distribution", str(tmp_path / "missing")]):
        assert main(["parse-event", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("hoist: ")
