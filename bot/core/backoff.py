"""Units of work that keep failing wait longer before each retry: `base` seconds after the
first failure, doubling up to `cap`, forgotten once the unit succeeds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Failures by unit name: (attempts so far, retry not before; seconds on the caller's
    clock)."""

    base: float = 1.0
    cap: float = 30.0
    failing: dict[str, tuple[int, float]] = field(default_factory=dict)

    def failed(self, unit: str, now: float) -> tuple[int, float]:
        """Record a failure at `now`; returns (this attempt's number, seconds to wait)."""
        attempts = self.failing.get(unit, (0, 0.0))[0] + 1
        delay = min(self.cap, self.base * 2 ** (attempts - 1))
        self.failing[unit] = (attempts, now + delay)
        return attempts, delay

    def succeeded(self, unit: str) -> None:
        """The unit worked: its next failure starts from `base` again."""
        self.failing.pop(unit, None)

    def due(self, unit: str, now: float) -> bool:
        """True when the unit may run at `now` (it is not waiting out a failure)."""
        return self.failing.get(unit, (0, 0.0))[1] <= now

    def reset(self) -> None:
        """Retry everything now (what made the units fail may have been fixed)."""
        self.failing.clear()


def describe(exc: BaseException) -> str:
    """An error in its own words (git's, the forge's), with its kind when those say little
    (a KeyError's words are only the missing key: `error=main` says nothing)."""
    text = str(exc)
    if isinstance(exc, RuntimeError | OSError) and len(text) > 12:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
