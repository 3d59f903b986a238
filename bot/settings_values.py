"""Reading HOIST_* values (pure): flags, bounded numbers, a forge's repository path from a
git URL, and the passwords inside a URL (so logs can redact them)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit


class SettingsError(ValueError):
    """The environment does not describe a service that may start."""


def github_repository(url: str) -> str | None:
    """owner/name of a github.com git URL (https or ssh), else None."""
    match = re.search(r"github\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$", url)
    return f"{match.group(1)}/{match.group(2)}" if match else None


def repository_path(url: str, forge_url: str | None) -> str | None:
    """`group/sub/project` of a git URL (https or ssh) on the forge at `forge_url` (an
    https URL's relative URL root, e.g. `/gitlab`, removed), else None."""
    if not forge_url:
        return None
    match = re.match(r"^[a-z]+://(?:[^@/]+@)?([^/:]+)(?::\d+)?(/[^?#]*)?", forge_url.rstrip("/"))
    if match is None:
        return None
    host, prefix = match.group(1), (match.group(2) or "").strip("/")
    found = re.match(rf"^(?:[a-z+]+://(?:[^@/]+@)?{re.escape(host)}(?::\d+)?/|"
                     rf"(?:[^@/]+@)?{re.escape(host)}:)(.+?)(?:\.git)?/?$", url)
    if found is None:
        return None
    path = found.group(1)
    if prefix and url.startswith(("http://", "https://")):  # ssh paths have no URL root
        if not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix) + 1:]
    return path if "/" in path else None


def flag(value: str | None, default: bool = False) -> bool:
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def number(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name) or ""
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def passwords(url: str | None) -> tuple[str, ...]:
    """The password inside a database URL, so logs can redact it: as a URL parser reads it
    (userinfo up to the first `@`) and as its writer may have meant it (up to the last `@`,
    when a password holds an unescaped `@` or `/`), each raw and percent-decoded."""
    if not url or "://" not in url:
        return ()
    authority = url.split("://", 1)[1].split("?", 1)[0]
    found = {urlsplit(url).password or "", authority.rpartition("@")[0].partition(":")[2]}
    return tuple(v for p in found for v in {p, unquote(p)} if v)
