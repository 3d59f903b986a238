"""Named crash points for crash-safety tests: HOIST_FAILPOINTS=promotion.planned kills the
process with SIGKILL right there, as a power cut would."""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    """Die on the spot if the environment names this failpoint."""
    if name in os.environ.get("HOIST_FAILPOINTS", "").split(","):
        os.kill(os.getpid(), signal.SIGKILL)
