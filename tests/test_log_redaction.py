from typing import Any

from bot.log import redactor


def test_secret_fields_and_known_secret_values_are_masked() -> None:
    redact = redactor(["s3cr3t-token", "hook-secret"])
    event: dict[str, Any] = {
        "event": "webhook.unauthorized", "authorization": "Bearer s3cr3t-token",
        "github_token": "ghp_x", "private_key": "-----BEGIN", "url": "https://x/?token=s3cr3t-token",
        "reason": "wrong hook-secret given", "count": 3,
    }
    out = redact(None, "info", event)
    assert out["authorization"] == out["github_token"] == out["private_key"] == "***"
    assert out["url"] == "https://x/?token=***"
    assert out["reason"] == "wrong *** given"
    assert out["count"] == 3 and out["event"] == "webhook.unauthorized"


def test_nested_values_exceptions_and_tracebacks_are_masked() -> None:
    import io
    import json

    import structlog

    from bot.log import configure

    redact = redactor(["s3cr3t-token", "s3cr3t"])
    out = redact(None, "info", {
        "event": "x", "headers": {"Authorization": "Bearer y", "x": ["a s3cr3t-token b"]},
        "pairs": [("url", "https://u:s3cr3t@h")], "error": ValueError("bad s3cr3t-token"),
        "deep": {"a": {"b": {"c": ({"d": "s3cr3t"},)}}}})
    assert out["headers"] == {"Authorization": "***", "x": ["a *** b"]}
    assert out["pairs"] == [["url", "https://u:***@h"]]
    assert out["error"] == "ValueError: bad ***"
    assert out["deep"] == {"a": {"b": {"c": [{"d": "***"}]}}}
    # Through the configured chain: exc_info's traceback text is masked too.
    configure("json", ["s3cr3t-token"])
    stream = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=stream))
    try:
        raise RuntimeError("connect with s3cr3t-token failed")
    except RuntimeError:
        structlog.get_logger().exception("store.failed", detail={"dsn": ["s3cr3t-token"]})
    line = json.loads(stream.getvalue())
    assert "s3cr3t-token" not in stream.getvalue()
    assert "RuntimeError: connect with *** failed" in line["exception"]
    structlog.reset_defaults()
