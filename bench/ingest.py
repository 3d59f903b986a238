"""Sustained webhook ingest: `hoist serve --role web` (authenticated, parsed, durably
stored; no flows in the process) against a bare FastAPI endpoint (read body, answer 202) on
the same machine in the same run, with wrk as the loopback load generator. Prints both
rates, their ratio, p99 latencies and the service's peak RSS. `--role all` measures the
single process that also runs the workers; `--database-url` a PostgreSQL store."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.demo.manifests import make_manifests_repo
from bot.demo.registry import free_port

BARE_APP = """
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
app = FastAPI()
@app.post("/webhooks/registry/distribution")
async def hook(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"accepted": 1}, status_code=202)
"""

LUA = """
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"events":[{"id":"%s-%d","action":"push","target":{'
    .. '"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'
    .. string.rep("a", 64) .. '","repository":"acme/unrelated","tag":"1.0.%d"},'
    .. '"request":{"host":"localhost:5000"}}]}', tostring(os.time()), counter, counter)
  return wrk.format("POST", "/webhooks/registry/distribution",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer TOKEN"}, body)
end
"""


def wait_up(url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def wrk(port: int, script: Path, seconds: int) -> tuple[float, float]:
    out = subprocess.run(["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    assert p99 is not None
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    return rate, float(p99.group(1)) * scale


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", default="web", choices=("web", "all"))
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk")
        return 2
    root = Path(tempfile.mkdtemp(prefix="hoist-ingest-"))
    token = "bench-token"
    script = root / "post.lua"
    script.write_text(LUA.replace("TOKEN", token))
    (root / "bare.py").write_text(BARE_APP)
    hoist_port, bare_port = free_port(), free_port()
    env = {**os.environ, "HOIST_MANIFESTS_REPO": make_manifests_repo(root),
           "HOIST_DATA_DIR": str(root / "data"), "HOIST_WEBHOOK_SECRET": token,
           "HOIST_LOG_FORMAT": "json"}
    if args.database_url:
        env["HOIST_DATABASE_URL"] = args.database_url
    python = sys.executable
    hoist = subprocess.Popen([python, "-m", "bot", "serve", "--port", str(hoist_port),
                              "--role", args.role], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = subprocess.Popen([python, "-m", "uvicorn", "bare:app", "--port", str(bare_port),
                             "--log-level", "warning"], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_up(f"http://127.0.0.1:{hoist_port}/healthz")
        wait_up(f"http://127.0.0.1:{bare_port}/docs")
        results: dict[str, list[tuple[float, float]]] = {}
        for round_ in range(2):  # interleaved, so both see the same machine
            for name, port in (("bare", bare_port), ("hoist", hoist_port)):
                results.setdefault(name, []).append(wrk(port, script, args.seconds))
            del round_
        stored = httpx.get(f"http://127.0.0.1:{hoist_port}/metrics", timeout=10).text
        accepted = re.search(r'hoist_webhooks_total\{outcome="accepted",source="distribution"\}'
                             r" ([\d.e+]+)", stored)
        rss = peak_rss_mb(hoist.pid)
    finally:
        hoist.terminate()
        bare.terminate()
        hoist.wait(10)
        bare.wait(10)
        shutil.rmtree(root, ignore_errors=True)
    bare_rate = max(r for r, _ in results["bare"])
    hoist_rate = max(r for r, _ in results["hoist"])
    print(json.dumps({"role": args.role, "bare_rps": round(bare_rate),
                      "hoist_rps": round(hoist_rate),
                      "ratio": round(hoist_rate / bare_rate, 2),
                      "hoist_p99_ms": min(p for _, p in results["hoist"]),
                      "bare_p99_ms": min(p for _, p in results["bare"]),
                      "accepted": float(accepted.group(1)) if accepted else None,
                      "hoist_peak_rss_mb": round(rss, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
