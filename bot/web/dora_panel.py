"""The page's DORA panel: each environment's four keys in words, with the count each number
stands on (the same numbers as `hoist dora` and /metrics)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.dora import Dora
from ..core.durations import format_duration


@dataclass(frozen=True)
class DoraRow:
    environment: str
    frequency: str
    lead_time: str
    failure_rate: str
    restore: str
    notes: tuple[str, ...]


def dora_rows(numbers: dict[str, Dora]) -> list[DoraRow]:
    """One row per environment that has promotions, in the order given."""
    rows = []
    for environment, found in numbers.items():
        if not found.promotions:
            continue
        data = found.to_json()
        lead, cfr, ttr = (data["lead_time_seconds"], data["change_failure_rate"],
                          data["time_to_restore_seconds"])
        rows.append(DoraRow(
            environment,
            f"{data['deployment_frequency_per_day']:.2f}/day ({found.promotions})",
            "—" if lead["median"] is None else
            f"{format_duration(lead['median'])} median, {format_duration(lead['p90'])} p90 "
            f"({lead['count']})",
            "—" if cfr["rate"] is None else
            f"{cfr['rate']:.0%} ({cfr['failures']} of {cfr['promotions']})",
            "—" if ttr["median"] is None else
            f"{format_duration(ttr['median'])} median ({ttr['count']})",
            found.notes))
    return rows
