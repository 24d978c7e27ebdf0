"""`make demo` from a fresh clone while the machine is kept busy: N runs, each in a new clone of this checkout's
committed HEAD (new .venv, new .pshub), with SPINNERS processes spinning on the CPU the whole time. A run
passes when `make demo` exits 0 and its output holds no traceback, no warning and no error line.

    python3 scripts/demo_under_load.py [--runs 5] [--spinners 4] [--keep]

Prints one line per run (seconds, pass or fail, the first offending line) and the total; exit 1 if any failed.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# what must not appear in a clean demo's output
OFFENDING = re.compile(r"Traceback|\w*Warning\b|\bwarning\b|\bwarn:|\berror\b|\bERROR\b", re.IGNORECASE)


def spin() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def clean_env() -> dict:
    """The environment of a new user: no pshub or Prefect settings of this shell."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PSHUB_", "PREFECT_"))}


def one_run(n: int, workdir: Path, keep: bool) -> tuple[bool, float, str]:
    clone = workdir / f"run{n}"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head], check=True)
    started = time.perf_counter()
    demo = subprocess.run(["make", "demo"], cwd=clone, env=clean_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    output = demo.stdout + demo.stderr
    (workdir / f"run{n}.log").write_text(output)
    subprocess.run(["make", "stop"], cwd=clone, env=clean_env(), capture_output=True, text=True)
    # make's own echo of the commands it runs is not the demo's output
    offending = [line for line in output.splitlines() if OFFENDING.search(line) and not line.startswith(".venv/bin/")]
    ok = demo.returncode == 0 and not offending
    why = f"exit {demo.returncode}" if demo.returncode else (offending[0][:160] if offending else "")
    if not keep:
        shutil.rmtree(clone, ignore_errors=True)
    return ok, seconds, why


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--spinners", type=int, default=4)
    ap.add_argument("--keep", action="store_true", help="keep the clones (their .pshub) for a post-mortem")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pshub-demo-under-load-"))
    print(f"{args.runs} runs of `make demo` from fresh clones of {ROOT.name} with {args.spinners} CPU spinners; "
          f"logs in {workdir}", flush=True)
    spinners = [spin() for _ in range(args.spinners)]
    passed = 0
    try:
        for n in range(1, args.runs + 1):
            ok, seconds, why = one_run(n, workdir, args.keep)
            passed += ok
            print(f"run {n}: {'pass' if ok else 'FAIL'} in {seconds:.0f} s (load {os.getloadavg()[0]:.1f})"
                  + (f": {why}" if why else ""), flush=True)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    print(f"{passed} of {args.runs} passed")
    sys.exit(0 if passed == args.runs else 1)


if __name__ == "__main__":
    main()
