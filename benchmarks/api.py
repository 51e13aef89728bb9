"""Throughput and latency of authenticated ``GET /api/v1/runs/{id}``.

Creates a temporary SQLite database (or uses ``--database-url``), a tenant, a user, an API key
and a run; starts ``uvicorn --workers 2 --factory opsforge.api.app:create_app`` on 127.0.0.1 on
a free port; drives it for a fixed duration with ``wrk`` when installed (else a few asyncio +
httpx clients); prints req/s and p50/p95/p99 latency; stops the server.

Usage::

    .venv/bin/python benchmarks/api.py [--duration 10] [--connections 8] [--workers 2]
                                        [--database-url postgresql://...] [--tool wrk|httpx]

Target: >= 1000 req/s and p95 <= 10 ms with two workers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from opsforge.core.auth.service import AuthService
from opsforge.core.storage.db import Database
from opsforge.core.storage.migrate import upgrade
from opsforge.core.storage.models import Run, new_id, utcnow

JWT_SECRET = "benchmark-secret-" + "x" * 40

_WRK_SCRIPT = """
wrk.method = "GET"
wrk.headers["X-API-Key"] = "{key}"
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d non2xx=%d\\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
  for _, p in pairs({{50, 95, 99}}) do
    io.write(string.format("BENCH p%d_us=%d\\n", p, latency:percentile(p)))
  end
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(database_url: str) -> tuple[str, str]:
    """Schema, tenant, user, API key and one run; returns (api key, run id)."""
    database = Database(database_url)
    upgrade(database)
    auth = AuthService(database, jwt_secret=JWT_SECRET)
    tenant = f"bench{new_id()[:8]}"
    auth.create_tenant(tenant)
    user = auth.create_user(
        f"bench-{tenant}", "benchmark-password", tenant_id=tenant, role="viewer"
    )
    _, key = auth.create_api_key(user.id, tenant, "viewer", name="benchmark")
    run_id = new_id()
    now = utcnow()
    with database.session() as session:
        session.add(
            Run(
                id=run_id,
                engine="ran",
                kind="recommend",
                tenant_id=tenant,
                status="succeeded",
                params={"seed": 0},
                result={"num_recommendations": 42},
                metrics={"runtime_s": 1.5},
                progress_fraction=1.0,
                progress_message="done",
                created_by=user.username,
                created_at=now,
                updated_at=now,
                started_at=now,
                finished_at=now,
                attempts=1,
                max_attempts=3,
            )
        )
    database.dispose()
    return key, run_id


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "opsforge.api.app:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(cmd, env=env)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        out += [int(x) for x in text.split()]
    return out


def server_cpu_s(pid: int) -> float:
    """User + system CPU time of the server's worker processes (Linux /proc). [s]"""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for child in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def wait_ready(url: str, key: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers={"X-API-Key": key}, timeout=2).status_code == 200:
                for _ in range(200):  # warm both workers' caches
                    httpx.get(url, headers={"X-API-Key": key}, timeout=5)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server did not answer {url} within {timeout_s} s")


def run_wrk(
    url: str, key: str, duration_s: int, connections: int, threads: int
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(_WRK_SCRIPT.format(key=key))
        script = handle.name
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration_s}s", "-s", script, url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(script)
    figures: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith("BENCH "):
            for pair in line.split()[1:]:
                name, value = pair.split("=")
                figures[name] = float(value)
    return {
        "requests": figures["requests"],
        "duration_s": figures["duration_us"] / 1e6,
        "errors": figures["errors"] + figures["non2xx"],
        "non2xx": figures["non2xx"],
        "p50_ms": figures["p50_us"] / 1000,
        "p95_ms": figures["p95_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
    }


async def _client(
    url: str, key: str, until: float, latencies: list[float], errors: list[int]
) -> None:
    async with httpx.AsyncClient(headers={"X-API-Key": key}, timeout=10) as client:
        while time.perf_counter() < until:
            started = time.perf_counter()
            resp = await client.get(url)
            latencies.append(time.perf_counter() - started)
            if resp.status_code != 200:
                errors.append(resp.status_code)


def run_httpx(url: str, key: str, duration_s: int, connections: int) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    until = started + duration_s

    async def main() -> None:
        await asyncio.gather(
            *(_client(url, key, until, latencies, errors) for _ in range(connections))
        )

    asyncio.run(main())
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "requests": float(len(latencies)),
        "duration_s": elapsed,
        "errors": float(len(errors)),
        "non2xx": float(len(errors)),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Load duration. [s]")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes.")
    parser.add_argument("--database-url", default="", help="Default: a temporary SQLite file.")
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="opsforge-bench-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    key, run_id = prepare(database_url)
    port = free_port()
    env = {
        **os.environ,
        "OPSFORGE_ENVIRONMENT": "test",
        "OPSFORGE_DATA_DIR": str(tmp),
        "OPSFORGE_DATABASE_URL": database_url,
        "OPSFORGE_AUTH__JWT_SECRET": JWT_SECRET,
        "OPSFORGE_LOG_LEVEL": "WARNING",
        "OPSFORGE_JOBS__BACKEND": "inline",
        "OPSFORGE_API__RATE_LIMIT_PER_MINUTE": "10000000",
        "OPSFORGE_API__RATE_LIMIT_BURST": "1000000",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prometheus"),
    }
    (tmp / "prometheus").mkdir()
    url = f"http://127.0.0.1:{port}/api/v1/runs/{run_id}"
    tool = args.tool if args.tool != "auto" else ("wrk" if shutil.which("wrk") else "httpx")
    server = start_server(env, port, args.workers)
    try:
        wait_ready(url, key)
        cpu_before = server_cpu_s(server.pid)
        if tool == "wrk":
            figures = run_wrk(url, key, args.duration, args.connections, args.threads)
        else:
            figures = run_httpx(url, key, args.duration, args.connections)
        figures["server_cpu_s"] = server_cpu_s(server.pid) - cpu_before
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    rps = figures["requests"] / figures["duration_s"]
    backend = "postgresql" if database_url.startswith("postgres") else "sqlite"
    print(
        f"GET /api/v1/runs/{{id}} (X-API-Key) | {args.workers} uvicorn workers | {backend} | "
        f"{tool}, {args.connections} connections, {args.duration} s"
    )
    print(
        f"requests: {int(figures['requests'])}  errors: {int(figures['errors'])} "
        f"(non-2xx {int(figures['non2xx'])}, the rest socket errors/timeouts > 2 s)"
    )
    print(f"throughput: {rps:.0f} req/s")
    print(
        f"latency: p50 {figures['p50_ms']:.2f} ms  p95 {figures['p95_ms']:.2f} ms  "
        f"p99 {figures['p99_ms']:.2f} ms"
    )
    cpu_ms = 1000 * figures["server_cpu_s"] / max(figures["requests"], 1)
    print(
        f"server CPU: {figures['server_cpu_s']:.1f} s over {args.workers} workers = "
        f"{cpu_ms:.2f} ms per request (machine load average {os.getloadavg()[0]:.1f}, "
        f"{os.cpu_count()} CPUs)"
    )
    ok = rps >= 1000 and figures["p95_ms"] <= 10 and figures["errors"] == 0
    print(f"target (>= 1000 req/s, p95 <= 10 ms, no errors): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
