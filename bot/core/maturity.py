"""Image maturity (pure): a push waits until it is `min_age` old, measured from when the
registry says it was pushed (else when the image was built). The age is the gate, so a
newer push during the wait supersedes the older one as any push does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .config import Config, Environment
from .durations import format_duration

if TYPE_CHECKING:
    from .members import Member
    from .plan import Plan


@dataclass(frozen=True)
class Wait:
    """Why a promotion waits, and until when (UTC; None: not within sight). The reason
    holds `key`, the end as stamp() writes it, so the same wait is told once."""

    reason: str
    until: datetime | None

    @property
    def key(self) -> str:
        """What names this wait: its end, or the reason when it has none."""
        return stamp(self.until) if self.until is not None else self.reason


def min_age(config: Config, env: Environment, image_key: str) -> float | None:
    """The image's own `min_age`, else its environment's; seconds."""
    image = config.images.get(image_key)
    own = image.min_age if image is not None else None
    return own if own is not None else env.min_age


def stamp(instant: datetime) -> str:
    """`2026-12-01T09:30:00Z`: UTC ISO 8601 to the second (Hoist-Pushed-At's form)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def maturity_wait(ages: Sequence[tuple[str, float, float]], now: float) -> Wait | None:
    """The wait for the youngest image that is not yet old enough, or None.

    `ages` holds `(what, born, min_age)`: a name for the image, when it was pushed (epoch
    seconds) and the age it needs (seconds)."""
    waits = [(born + need, what, now - born, need) for what, born, need in ages
             if now - born < need]
    if not waits:
        return None
    until, what, age, need = max(waits)
    moment = datetime.fromtimestamp(until, UTC)
    return Wait(f"image {what} is {format_duration(age)} old, min_age "
                f"{format_duration(need)}: waits until {stamp(moment)}", moment)


def push_times(plan: Plan, members: Sequence[Member], received_at: float) -> list[str]:
    """Each moved image's push time for its Hoist-Pushed-At trailer, in the order of its
    Hoist-Image trailers: the registry's, else when Hoist received the push."""
    pushed = {m.image_key: m.pushed_at for m in members}
    return [stamp(datetime.fromtimestamp(pushed.get(m.image_key) or received_at, UTC))
            for m in plan.images]
