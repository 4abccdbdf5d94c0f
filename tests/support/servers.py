"""Real Arize Phoenix and MLflow tracking servers on 127.0.0.1, each with a fresh SQLite store in a temp
dir, started for the pull tests (extra `servers`). `phoenix()` and `mlflow()` are context managers that
yield the server's base URL and stop the process (by its pid) on exit."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.time() + STARTUP_SECONDS
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}): {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except Exception:
            time.sleep(0.5)
    raise RuntimeError(f"server did not answer {url} in {STARTUP_SECONDS} s: {log.read_text()[-3000:]}")


@contextlib.contextmanager
def _serve(cmd: list[str], env: dict, health: str, work: Path):
    log = work / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=work)
    try:
        _wait(health, proc, log)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def phoenix(work: Path):
    """`python -m phoenix.server.main serve` with PHOENIX_WORKING_DIR = work (SQLite), no telemetry."""
    port, grpc = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "phoenix.server.main",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--grpc-port",
        str(grpc),
        "--no-internet",
    ]
    env = {"PHOENIX_WORKING_DIR": str(work), "PHOENIX_TELEMETRY_ENABLED": "false"}
    with _serve(cmd, env, url + "/healthz", work):
        yield url


@contextlib.contextmanager
def mlflow(work: Path):
    """`mlflow server` with a SQLite backend store and a local artifact destination, both in work."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        f"sqlite:///{work / 'mlflow.db'}",
        "--artifacts-destination",
        str(work / "artifacts"),
        "--workers",
        "1",
    ]
    with _serve(cmd, {"MLFLOW_ENABLE_TELEMETRY": "false", "DO_NOT_TRACK": "true"}, url + "/health", work):
        yield url
