"""``opsforge serve`` end to end: upgrade, uvicorn with the app factory, two workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_two_workers_health_ready_metrics(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "OPSFORGE_DATA_DIR": str(tmp_path),
        "OPSFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "OPSFORGE_LOG_LEVEL": "WARNING",
        "OPSFORGE_JOBS__BACKEND": "inline",
    }
    env.pop("OPSFORGE_AUTH__JWT_SECRET", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cmd = [sys.executable, "-m", "opsforge", "serve", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "server did not start within 90 s"
            time.sleep(0.5)
        assert httpx.get(f"{base}/ready").json()["checks"] == {"database": "ok"}
        for _ in range(6):
            httpx.get(f"{base}/api/v1/health")
        metrics = httpx.get(f"{base}/metrics").text
        line = next(
            x
            for x in metrics.splitlines()
            if x.startswith("opsforge_http_request_duration_seconds_count")
            and 'route="/api/v1/health"' in x
        )
        assert line.endswith(" 6.0"), line  # aggregated over both workers
        assert (tmp_path / "prometheus").is_dir()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
