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
