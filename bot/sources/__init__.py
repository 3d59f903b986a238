"""Registry webhook sources, by the name used in routes and `hoist parse-event`."""

from __future__ import annotations

from .base import AuthError, PayloadError, Source, lower_headers
from .distribution import DistributionSource

SOURCES: dict[str, Source] = {s.name: s for s in (DistributionSource(),)}

__all__ = ["SOURCES", "AuthError", "PayloadError", "Source", "lower_headers"]
