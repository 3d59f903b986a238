"""DORA as a running Hoist shows it: after real promotions through `hoist serve`, /metrics
and the page carry the same numbers `hoist dora` computes from the manifests repo's git
history (issue 28: "the same numbers as Prometheus metrics and a panel on the page")."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.scenario import IMAGE, PROD_FILE, Scenario, kustomization
from tests.support import need, wait_for

pytestmark = pytest.mark.e2e
DEV_FILE = "apps/guestbook/dev/kustomization.yaml"
CHAIN = {"hoist.yaml": (
    f"images:\n  guestbook:\n    repository: {IMAGE}\n    tags: {{semver: '>=1.0.0'}}\n"
    "    pin: tag@digest\nenvironments:\n"
    f"  - {{name: dev, branch: main, approval: none, targets: [{{file: {DEV_FILE}, "
    "image: guestbook}]}\n"
    f"  - {{name: prod, branch: main, after: dev, approval: none, targets: [{{file: "
    f"{PROD_FILE}, image: guestbook}}]}}\n"),
    DEV_FILE: kustomization("1.0.0"), PROD_FILE: kustomization("1.0.0")}


def test_metrics_and_the_page_carry_what_hoist_dora_computes(tmp_path: Path) -> None:
    need("git")
    with Scenario(tmp_path, CHAIN, forge=None) as s:
        for tag in ("1.1.0", "1.2.0"):
            s.push(tag)
            s.wait_state("prod", "promoted", tag)
        dora = subprocess.run([sys.executable, "-m", "bot", "dora", "--repo", str(s.bare),
                               "--env", "prod", "--json"], capture_output=True, text=True,
                              check=True)
        numbers = json.loads(dora.stdout)
        assert numbers["promotions"] == 2 and numbers["lead_time_seconds"]["count"] == 2
        exposition = wait_for(lambda: (lambda text: text if re.search(
            r'hoist_dora_promotions\{environment="prod"\} 2', text) else None)(
            httpx.get(f"{s.url}/metrics", timeout=10).text), "DORA on /metrics")
        frequency = re.search(
            r'hoist_dora_deployment_frequency_per_day\{environment="prod"\} (\S+)', exposition)
        assert frequency and float(frequency.group(1)) == pytest.approx(
            numbers["deployment_frequency_per_day"], rel=1e-3)
        assert re.search(r'hoist_dora_lead_time_seconds\{environment="prod",quantile="0.5"\}',
                         exposition)
        assert re.search(r'hoist_dora_change_failure_rate\{environment="prod"\} 0\.0',
                         exposition)
        page = httpx.get(f"{s.url}/", timeout=10).text
        assert "Delivery (DORA, from git)" in page
        assert re.search(r'<tr data-dora-environment="prod">\s*<th scope="row" '
                         r'data-label="Environment">prod</th>', page)
        assert "0% (0 of 2)" in page
