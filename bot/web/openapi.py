"""What the OpenAPI schema says about bodies and headers the handlers read themselves (raw,
so signatures can be checked over the exact bytes): clients and fuzzers see them."""

from __future__ import annotations

from typing import Any


def _header(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": False, "schema": {"type": "string"},
            "description": description}


_ANY_JSON = {"requestBody": {"required": True, "description": "the sender's JSON payload, "
                             "at most 1 MiB", "content": {"application/json": {"schema": {}}}}}

REGISTRY_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("Authorization", "`Bearer <HOIST_WEBHOOK_SECRET>` (or Basic with it as password)"),
    _header("X-Hoist-Token", "the webhook secret, for senders that cannot set Authorization"),
    _header("X-Hoist-Signature-256", "`sha256=<hex HMAC of the body>` (generic source)"),
    _header("X-Hoist-Timestamp", "Unix seconds signed with the body (generic source)"),
]}
GITHUB_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("X-GitHub-Event", "the event name: package, issue_comment, pull_request, ..."),
    _header("X-GitHub-Delivery", "the delivery id, used to recognise redeliveries"),
    _header("X-Hub-Signature-256", "`sha256=<hex HMAC of the body>` with the GitHub secret"),
]}
API_WRITE: dict[str, Any] = {"parameters": [
    _header("Authorization", "`Bearer <HOIST_API_TOKEN>`"),
    _header("X-Hoist-User", "who approves, recorded in the Hoist-Approved-By trailer"),
]}
