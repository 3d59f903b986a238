"""Helm: a chart directory rendered offline with values, as `helm template` does, by the
Helm SDK (the helm-python-sdk package binds Helm's Go SDK). The SDK runs in a child process
(`python -m bot.adapters.rendering.helm`, JSON in and out) so a render can be timed out and a
fault in the native library cannot take Hoist down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .errors import RenderFailed


def render(root: Path, chart: str, values: dict[str, Any], release: str, namespace: str,
           timeout: float) -> str:
    """The chart's rendered objects as one YAML stream (templates in path order; NOTES.txt
    and other non-YAML files left out). RenderFailed with Helm's own message."""
    request = {"chart": str(root / chart), "values": values, "release": release or "release",
               "namespace": namespace or "default"}
    try:
        done = subprocess.run([sys.executable, "-m", __name__], input=json.dumps(request),
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderFailed(f"helm template {chart}: took longer than {timeout:g} s") from None
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise RenderFailed(f"helm template {chart}: {said.replace(f'{root}/', '')}")
    return done.stdout


def _child() -> int:
    request = json.loads(sys.stdin.read())
    try:
        import helm_python

        chart = helm_python.Chart.load(request["chart"])
        chart.validate_schema(request["values"])
        manifests = chart.render(request["values"], name=request["release"],
                                 namespace=request["namespace"], is_install=True)
    except Exception as exc:  # the SDK's errors and a missing package alike: one line
        print(str(exc).replace("\n", " ") or type(exc).__name__, file=sys.stderr)
        return 1
    for path in sorted(manifests):
        if path.endswith((".yaml", ".yml")) and manifests[path].strip():
            sys.stdout.write(f"---\n# Source: {path}\n{manifests[path].strip()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(_child())
