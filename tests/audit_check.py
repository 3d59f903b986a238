"""Reads a manifests repo back with the real `hoist audit` CLI and checks it against the store:
the e2e tests call it on the repos they build, so every promotion they make is audited."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.adapters.store.records import Promotion

# States whose commit is on the environment branch (merged at least once).
LANDED = {"merged", "analyzing", "promoted", "reverting", "reverted"}


def audit_json(repo: Path | str, *args: str) -> list[dict[str, Any]]:
    """`hoist audit --repo REPO --json ARGS...` run as a program, its JSON lines parsed."""
    result = subprocess.run([sys.executable, "-m", "bot", "audit", "--repo", str(repo), "--json", *args],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_audit_reads_back(repo: Path | str, promotions: list[Promotion] | list[dict[str, Any]]) -> int:
    """Every landed promotion has exactly one promote entry with its environment, image and
    approvers; every reverted one has linked revert entries with evidence; nothing else
    appears. Returns the number of entries read."""
    entries = audit_json(repo)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_id.setdefault(entry["promotion"], []).append(entry)
    shown = [p.public() if isinstance(p, Promotion) else p for p in promotions]
    landed = {p["id"]: p for p in shown if p["state"] in LANDED}
    assert set(by_id) == set(landed), "audit shows exactly the promotions that landed"
    for pid, promotion in landed.items():
        mine = by_id[pid]
        assert {e["environment"] for e in mine} == {promotion["environment"]}
        (promote,) = [e for e in mine if e["kind"] == "promote"]
        # Every image the promotion moved (one, or a train's), each from → to.
        assert [i["image"] for i in promote["images"]] == promotion["image"].split(", ")
        assert all(i["to_version"] and f"{i['to_version']}" in i["image"]
                   for i in promote["images"])
        assert promote["train"] == promotion.get("train")
        if promotion["digest"]:
            assert promote["to_version"] and promotion["digest"] in promote["to_version"]
        assert promote["approved_by"] == promotion["approved_by"]
        commits = {e["commit"] for e in mine if e["kind"] != "revert"}
        reverts = [e for e in mine if e["kind"] == "revert"]
        if promotion["state"] == "reverted":
            assert reverts and all(r["reverts"] in commits and r["evidence"] for r in reverts)
            assert promote["reverted_by"] in {r["commit"] for r in reverts}
        else:
            assert reverts == [] and promote["reverted_by"] is None
    return len(entries)
