"""What the medium-scale benchmarks share: a home of their own, a sandbox in its own process, and child
processes that run a flow and report `RESULT <json>` lines. Not a benchmark itself (`make bench` skips it)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_env(home: Path, prefect_log_level: str = "WARNING") -> dict:
    """The environment of a benchmark in `home` (this process's too): local sandbox systems, quiet Prefect.

    The child processes run as a user's do: Python's byte-code cache allowed (PYTHONDONTWRITEBYTECODE dropped,
    should the shell set it), so that a fresh process loads the project's modules from __pycache__ as an installed
    pshub does, instead of compiling every module on every start (about 0.1 CPU-second of the hub's own modules)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PSHUB_HOME": str(home), "PREFECT_HOME": str(home / "prefect"),
           "PREFECT_LOGGING_LEVEL": prefect_log_level, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for system in ("SALESFORCE", "NETSUITE", "KANTATA", "HUBSPOT"):
        env.pop(f"PSHUB_{system}_URL", None)
    os.environ.update({k: env[k] for k in ("PSHUB_HOME", "PREFECT_HOME")})
    return env


def start_sandbox(home: Path, scale: str, env: dict, timeout: float = 1800) -> subprocess.Popen:
    """`pshub sandbox serve` in a process of its own, on ephemeral ports; returns once its endpoints are up
    (the first start generates the firm, which takes minutes at medium scale)."""
    endpoints = home / "sandbox" / "endpoints.json"
    endpoints.unlink(missing_ok=True)
    log = open(home / "sandbox.log", "a")
    proc = subprocess.Popen([str(ROOT / ".venv/bin/pshub"), "sandbox", "serve", "--scale", scale, "--data-dir",
                             str(home / "sandbox"), "--salesforce-port", "0", "--netsuite-port", "0",
                             "--kantata-port", "0", "--dynamics-port", "0", "--hubspot-port", "0"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not endpoints.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"the sandbox did not start: see {home / 'sandbox.log'}")
        time.sleep(0.5)
    return proc


def run_child(code: str, env: dict, what: str) -> list[dict]:
    """Run `code` in a child Python process; return its `RESULT <json>` lines, or stop with its stderr."""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{what} failed:\n{proc.stderr[-4000:]}")
    return [json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
