"""Durations in hoist.yaml: `30s`, `5m`, `1h`, `250ms`, or a number of seconds."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)?$")
_UNITS: dict[str | None, float] = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}


def parse_duration(value: Any) -> float:
    """Seconds from `30s`, `5m`, `1h`, `250ms` or a plain number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2)]


# `format: duration` tells the schema's readers (the docs' hoist.yaml reference) what it takes.
Duration = Annotated[float, BeforeValidator(parse_duration), Field(json_schema_extra={"format": "duration"})]


def format_duration(seconds: float) -> str:
    """The shortest hoist.yaml spelling, to the second, of up to two units: `12m`, `1h`,
    `1h5m`, `45s`, `2d3h` (parse_duration reads all but days back)."""
    whole = max(0, round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    return "".join(parts[:2]) or "0s"
