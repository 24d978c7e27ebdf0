"""Runs one apply of a test sync in its own process, so that a test can kill it at any moment."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sync_test_defs import make_sync  # noqa: E402

from pshub.clients import client_for  # noqa: E402
from pshub.warehouse import connect  # noqa: E402
from reverse_etl import engine  # noqa: E402


def main(name: str, kind: str, run_id: str) -> None:
    sync = make_sync(name, kind)
    with connect() as conn:
        print("ready", flush=True)
        # confirmed: under load the killed applies leave many changed rows for the next one, which the safety stop
        # (tested on its own in test_engine) would refuse; these trials are about exactly-once, not that guard
        result = engine.apply(conn, sync, run_id, lambda: client_for(sync.destination), concurrency=5, confirm=True)
    print(result.status, result.pushed, result.failed, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
