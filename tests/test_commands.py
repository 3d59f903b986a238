from bot.core.commands import Command, authorize, parse_commands, permission_reaches
from bot.core.config import Approval


def test_commands_one_per_line_case_insensitive_outside_quotes_and_code() -> None:
    body = ("LGTM\n/hoist approve\n/HOIST Hold waiting for QA  \n> /hoist abort quoted\n"
            "```\n/hoist abort in code\n```\nsee `/hoist abort` inline\n/hoist promote prod\n"
            "/hoist frobnicate\n")
    assert parse_commands(body) == [Command("approve"), Command("hold", "waiting for QA"),
                                    Command("promote", "prod"), Command("unknown:frobnicate")]
    assert parse_commands("please /hoist approve") == []


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
