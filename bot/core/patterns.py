"""Policy regexes (`tags.regex`, `tags.ignore`) compiled with RE2 (google-re2): matching
takes time linear in the tag whatever the pattern, so a pattern like `^(a+)+$` cannot pin a
worker thread the way Python's backtracking `re` would. RE2 has no backreferences (`\\1`)
and no lookaround (`(?=…)`, `(?<!…)`); such patterns are refused when the config is loaded.
Named groups `(?P<key>…)` work as in `re`."""

from __future__ import annotations

import functools
from typing import Any

import re2  # type: ignore[import-untyped]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the reason goes into PatternError, not onto stderr


class PatternError(ValueError):
    """The pattern is not one RE2 compiles; the message names it and says why."""


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The compiled RE2 pattern (`.search`, `.groups`, `.groupindex` as in `re`).
    PatternError when RE2 refuses it."""
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        hint = (" (RE2 matches in linear time: it has no backreferences or lookaround)"
                if _perl_only(str(reason)) else "")
        raise PatternError(f"invalid regex {pattern!r}: {reason}{hint}") from None


def search(pattern: str, text: str) -> Any:
    """The first match of pattern in text (a match object as `re.search` gives), or None.
    PatternError when RE2 refuses the pattern."""
    return compile_pattern(pattern).search(text)


def _perl_only(reason: str) -> bool:
    return "escape sequence" in reason or "perl operator" in reason
