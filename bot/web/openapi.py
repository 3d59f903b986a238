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
GITLAB_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("X-Gitlab-Token", "the webhook's secret token (HOIST_GITLAB_WEBHOOK_SECRET)"),
    _header("X-Gitlab-Event", "Note Hook, Merge Request Hook, ... (routing uses the body)"),
    _header("Idempotency-Key", "the same for every retry of a delivery"),
    _header("X-Gitlab-Event-UUID", "the delivery id, when there is no Idempotency-Key"),
]}
GITEA_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("X-Gitea-Event", "issue_comment, pull_request, ... (X-Forgejo-Event on Forgejo)"),
    _header("X-Gitea-Signature", "hex HMAC-SHA256 of the body (X-Forgejo-Signature)"),
    _header("X-Gitea-Delivery", "the delivery id (X-Forgejo-Delivery)"),
]}
BITBUCKET_DC_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("X-Event-Key", "pr:comment:added, pr:merged, repo:refs_changed, diagnostics:ping, ..."),
    _header("X-Hub-Signature", "`sha256=<hex HMAC-SHA256 of the body>` with the webhook secret"),
    _header("X-Request-Id", "the delivery id"),
]}
BITBUCKET_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("X-Event-Key", "pullrequest:comment_created, pullrequest:approved, repo:push, ..."),
    _header("X-Hub-Signature", "`sha256=<hex HMAC of the body>` with the webhook's secret"),
    _header("X-Request-UUID", "the delivery id, the same for a redelivery"),
]}
AZURE_DEVOPS_WEBHOOK: dict[str, Any] = {**_ANY_JSON, "parameters": [
    _header("Authorization", "Basic, any user name, HOIST_AZURE_DEVOPS_WEBHOOK_SECRET as "
                             "the password (service hooks are not signed)"),
    _header("X-Hoist-Token", "the secret, as a header set on the subscription instead"),
]}
API_WRITE: dict[str, Any] = {"parameters": [
    _header("Authorization", "`Bearer <HOIST_API_TOKEN>`"),
    _header("X-Hoist-User", "who gives the command (an approver is recorded in the "
                            "Hoist-Approved-By trailer); default `api`"),
]}
API_OVERRIDE: dict[str, Any] = {"parameters": [
    _header("Authorization", "`Bearer <HOIST_API_TOKEN>`"),
    _header("X-Hoist-User", "who overrides, recorded in the Hoist-Window-Override trailer"),
], "requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["reason"],
    "properties": {"reason": {"type": "string", "description": "recorded in the trailer"}}}}}}}
