"""Commands an operator types, timed from a fresh process with nothing to do: `pshub status`, `exceptions`,
`sync list`, `sync plan` and a no-op `sync apply` (median of 5 each, target at most 3 s), against the bare
start-up of the CLI (`import pshub.app.cli`) measured in the same run, and whether each imported Prefect (none
should: they start no Prefect server unless one is configured).

    .venv/bin/python bench/cli.py [--home PSHUB_HOME] [--runs 5] [--target-seconds 3]

With no --home, a temporary home gets one demo cycle first (minutes), so that there is something to report.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"

COMMANDS = {
    "status": ["status"],
    "exceptions": ["exceptions"],
    "sync list": ["sync", "list"],
    "sync plan": ["sync", "plan"],
    "sync apply (nothing to push)": ["sync", "apply"],
}
# runs the CLI as its entry point does, then says on stderr whether Prefect was imported
PROBE = ("import sys\nfrom pshub.app.cli import main\nsys.argv = ['pshub'] + sys.argv[1:]\ntry:\n    main()\n"
         "finally:\n    print('PREFECT_IMPORTED=' + str('prefect' in sys.modules), file=sys.stderr)\n")


def timed(args: list[str], env: dict) -> tuple[float, bool, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run([str(PYTHON), "-c", PROBE, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    return seconds, "PREFECT_IMPORTED=True" in proc.stderr, proc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--target-seconds", type=float, default=3.0)
    args = ap.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="pshub-bench-cli-"))
    env = {**os.environ, "PSHUB_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    for system in ("SALESFORCE", "NETSUITE", "KANTATA"):
        env.pop(f"PSHUB_{system}_URL", None)
    if not (home / "dbt" / "state" / "build.json").exists():
        print(f"preparing {home}: one demo cycle ...", flush=True)
        demo = subprocess.run([str(ROOT / ".venv/bin/pshub"), "demo"], cwd=ROOT, env=env, capture_output=True, text=True)
        if demo.returncode != 0:
            sys.exit(f"the demo failed:\n{demo.stderr[-3000:]}")
    # the warehouse is up and migrated before timing (every command would start it otherwise, once)
    subprocess.run([str(ROOT / ".venv/bin/pshub"), "db", "url"], cwd=ROOT, env=env, capture_output=True, check=True)

    baseline = statistics.median(
        _time_import(env) for _ in range(args.runs))
    print(f"{'command':<30} {'median s':>9} {'min s':>7} {'max s':>7} {'x start-up':>10}  prefect  within {args.target_seconds:g} s")
    print(f"{'(import pshub.app.cli)':<30} {baseline:>9.2f}")
    worst = 0.0
    for label, argv in COMMANDS.items():
        samples, imported = [], False
        for _ in range(args.runs):
            seconds, prefect, proc = timed(argv, env)
            if proc.returncode != 0:
                sys.exit(f"`pshub {' '.join(argv)}` failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
            samples.append(seconds)
            imported |= prefect
        median = statistics.median(samples)
        worst = max(worst, median)
        print(f"{label:<30} {median:>9.2f} {min(samples):>7.2f} {max(samples):>7.2f} {median / baseline:>10.1f}  "
              f"{'yes' if imported else 'no':<7}  {'yes' if median <= args.target_seconds else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"slowest median {worst:.2f} s: " + ("within" if worst <= args.target_seconds else "OVER") + f" the {args.target_seconds:g} s target")


def _time_import(env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([str(PYTHON), "-c", "import pshub.app.cli"], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
