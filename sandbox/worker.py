"""One simulated system in a process of its own: `python -m sandbox.worker` (started by SandboxServer with
processes=True, not by hand).

Protocol on stdin/stdout, one JSON line each: it reads its settings, serves its system, writes {"url": ...},
reads the base URLs of every system (for the admin calls that span systems), then serves until stdin closes
(the parent stopped, or died) or it is interrupted.
"""
from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path

from sandbox.server import SandboxServer


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the workers by closing their stdin
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = json.loads(sys.stdin.readline())
    system = settings["system"]
    server = SandboxServer(Path(settings["data_dir"]), scale=settings["scale"], faults={system: settings["faults"]},
                           host=settings["host"], ports={system: settings["port"]},
                           token_ttl_seconds=settings["token_ttl_seconds"], latency_ms=settings["latency_ms"],
                           certfile=settings["certfile"], keyfile=settings["keyfile"], systems=(system,))
    server.start(worker=True)
    try:
        sys.stdout.write(json.dumps({"url": server.urls[system]}) + "\n")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if line:
            server.siblings = {s: u for s, u in json.loads(line).items() if s != system}
            sys.stdin.read()  # until the parent closes it
    finally:
        server.stop()


if __name__ == "__main__":
    main()
