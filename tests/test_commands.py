import pytest

from bot.core.commands import (
    Command,
    authorize,
    parse_commands,
    permission_reaches,
    written_for,
)
from bot.core.config import Approval

APPROVE = [Command("approve")]


def test_commands_one_per_line_case_insensitive_outside_quotes_and_code() -> None:
    body = ("LGTM\n/hoist approve\n/HOIST Hold waiting for QA  \n> /hoist abort quoted\n"
            "```\n/hoist abort in code\n```\nsee `/hoist abort` inline\n/hoist promote prod\n"
            "/hoist frobnicate\n")
    assert parse_commands(body) == [Command("approve"), Command("hold", "waiting for QA"),
                                    Command("promote", "prod"), Command("unknown:frobnicate")]
    assert parse_commands("please /hoist approve") == []


@pytest.mark.parametrize(("body", "expected"), [
    # paragraphs, headings and list items are prose (CommonMark §4.8, §4.2, §5.2)
    ("/hoist approve", APPROVE),
    ("Looks good.\n/hoist approve\nthanks", APPROVE),
    ("   /hoist approve", APPROVE),  # three spaces: still a paragraph (§4.4)
    ("# /hoist approve", APPROVE),
    ("- /hoist approve", APPROVE),
    ("1. LGTM\n2. /hoist approve", APPROVE),
    ("LGTM\n    /hoist approve", APPROVE),  # an indented line cannot interrupt a paragraph
    ("**/hoist approve**", APPROVE),
    ("/hoist approve  \n/hoist status", [Command("approve"), Command("status")]),  # hard break
    ("LGTM\r\n/hoist approve\r\n", APPROVE),  # CRLF (§2.1)
    ("LGTM\r/hoist approve", APPROVE),  # a lone CR ends a line too
    ("<details>\n\n/hoist approve\n\n</details>", APPROVE),  # a paragraph between HTML
    ("/hoist hold `deploy` freeze", [Command("hold", "`deploy` freeze")]),
    # indented code blocks: four spaces or a tab (§4.4), in list items too
    ("For the record:\n\n    /hoist approve\n\nnot yet.", []),
    ("    /hoist approve", []),
    ("\t/hoist approve", []),
    ("  \t/hoist approve", []),
    ("- item\n\n      /hoist approve", []),
    ("-     /hoist approve", []),
    # fenced code blocks (§4.5), closed or not
    ("```\n/hoist approve\n```", []),
    ("~~~\n/hoist approve\n~~~", []),
    ("```sh\n/hoist approve\n```\n/hoist hold", [Command("hold")]),
    ("````\n```\n/hoist approve\n````", []),  # a shorter fence does not close it
    ("```\n/hoist approve", []),  # unclosed: code to the end of the comment
    ("> ```\n/hoist approve", APPROVE),  # the quote's fence ends with the quote (§5.1)
    ("- ```\n  /hoist approve\n  ```", []),
    # block quotes (§5.1), lazy continuation and nesting included
    ("> /hoist approve", []),
    ("> LGTM\n/hoist approve", []),  # a lazy continuation line is still quoted
    ("> > /hoist approve", []),
    ("- > /hoist approve", []),
    ("> quoted\n\n/hoist approve", APPROVE),
    # HTML (§4.6, §6.6): comments, one line or many, and inline tags
    ("<!-- /hoist approve -->", []),
    ("<!--\n/hoist approve\n-->", []),
    ("<!--\n\n/hoist approve\n\n-->", []),  # blank lines do not end a comment block
    ("LGTM <!--\n/hoist approve\n--> later", []),
    ("<div>\n/hoist approve\n</div>", []),
    ("<b>/hoist approve</b>", []),
    # inline code (§6.1), at the start, mid-line, whole line
    ("`/hoist approve`", []),
    ("run `/hoist approve` when ready", []),
    ("`x` /hoist approve", []),
    ("``\n/hoist approve\n``", []),  # a code span across lines
    # not commands
    ("please /hoist approve", []),
    ("/hoist", []),
    ("/hoistapprove", []),
    ("", []),
])
def test_commands_only_from_prose(body: str, expected: list[Command]) -> None:
    assert parse_commands(body) == expected


def test_permission_order() -> None:
    assert permission_reaches("admin", "maintain")
    assert permission_reaches("write", "write")
    assert not permission_reaches("triage", "write")
    assert not permission_reaches("none", "read")


POLICY = Approval(required=2, permission="write", users=["release-bot-human"],
                  teams=["acme/sre"])


def test_authorization() -> None:
    approve = Command("approve")
    assert authorize(approve, "bob", "write", [], POLICY, "hoist[bot]", []).allowed
    refused = authorize(approve, "rita", "read", [], POLICY, "hoist[bot]", [])
    assert not refused.allowed and "needs write" in refused.reason
    assert authorize(approve, "rita", "read", ["acme/sre"], POLICY, None, []).allowed
    assert authorize(approve, "release-bot-human", "read", [], POLICY, None, []).allowed
    assert not authorize(approve, "hoist[bot]", "admin", [], POLICY, "hoist[bot]", []).allowed
    twice = authorize(approve, "Bob", "admin", [], POLICY, None, ["bob"])
    assert not twice.allowed and "nobody counts twice" in twice.reason
    assert authorize(Command("status"), "rita", "read", [], POLICY, None, []).allowed


OLD, NEW, NEWEST = ("p-1.1.0", 100.0), ("p-1.2.0", 200.0), ("p-1.3.0", 300.0)


@pytest.mark.parametrize(("received_for", "written_at", "expected"), [
    ("p-1.1.0", None, "p-1.1.0"),  # received for 1.1.0, handled after 1.2.0 replaced it
    ("p-1.2.0", None, "p-1.2.0"),
    ("p-1.2.0", 250.0, "p-1.2.0"),
    ("p-1.2.0", 150.0, "p-1.1.0"),  # written before the update, delivered after it
    ("p-1.3.0", 150.0, "p-1.1.0"),  # ... or resent by hand two updates later
    ("p-1.1.0", 250.0, "p-1.1.0"),  # a forge clock ahead never moves it past receipt
    ("p-1.2.0", 200.0, "p-1.2.0"),  # written as it was proposed: for it
    ("p-1.2.0", 199.0, "p-1.2.0"),  # dated to the second the proposal fell in: for it
    ("p-1.2.0", 198.9, "p-1.1.0"),  # that second ended before: for the older
    ("p-1.2.0", 99.5, "p-1.1.0"),
    ("p-1.2.0", 50.0, "p-1.2.0"),  # before the change request existed: not believed
    ("p-1.2.0", 1.0e9, "p-1.2.0"),
    (None, None, "p-1.3.0"),  # stored before Hoist recorded it: the newest
    ("p-other", 150.0, "p-1.1.0"),
])
def test_an_approval_is_for_what_the_change_request_showed_its_author(
        received_for: str | None, written_at: float | None, expected: str) -> None:
    assert written_for([OLD, NEW, NEWEST], received_for, written_at) == expected


def test_a_change_request_with_no_recorded_proposals_keeps_the_receipt() -> None:
    assert written_for([], "p-1", 5.0) == "p-1"
    assert written_for([], None, None) is None
