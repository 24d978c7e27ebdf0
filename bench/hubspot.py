"""HubSpot reads at scale: every company, deal and line item of the firm read through the search endpoint by the hub's
connector, as HubSpot's limits allow, checked against the firm (nothing missed, nothing twice).

    .venv/bin/python bench/hubspot.py [--scale medium] [--data-dir DIR] [--cap 1000]

Three reads of the same records, in the same run:
  baseline  the search cap at 10,000 (HubSpot's), the client pacing its searches at 4 a second (no 429 expected);
  narrowed  the cap at --cap: each query pages through --cap results at most, the read narrows its window past it;
  limited   the narrowed read with the client's pacing off, the sandbox enforcing 5 searches a second and drawing 10%
            TEN_SECONDLY_ROLLING 429s: every 429 waited out and retried.
Printed: records, search queries, HTTP calls, 429s met and seconds of each read, and each read's time as a ratio to
the baseline's. The firm is generated once in --data-dir and reused.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from connectors.hubspot import HubSpotClient  # noqa: E402
from sandbox.hubspot import OBJECTS, hs_id  # noqa: E402
from sandbox.server import SandboxServer  # noqa: E402

SEARCHED = ("companies", "deals", "line_items")


def read_all(server: SandboxServer, cap: int, paced: bool) -> dict:
    kw = {} if paced else {"searches_per_second": None}
    started = time.perf_counter()
    seen: dict[str, list[str]] = {}
    with HubSpotClient(server.urls["hubspot"], server.credentials["hubspot"], result_cap=cap, max_attempts=20,
                       **kw) as client:
        for obj in SEARCHED:
            seen[obj] = [r["id"] for page in client.changed_pages(obj, ("hs_object_id",), since=None) for r in page]
        return {"seconds": round(time.perf_counter() - started, 2), "queries": client.queries, "calls": client.calls,
                "429s": client.rate_limited, "seen": seen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="medium")
    ap.add_argument("--data-dir", type=Path, default=None, help="the firm's folder (generated once, then reused)")
    ap.add_argument("--cap", type=int, default=1000, help="results one search query may page through, narrowed")
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.gettempdir()) / f"pshub-bench-hubspot-{args.scale}"
    server = SandboxServer(data_dir, scale=args.scale, seed=42, anchor=dt.datetime(2026, 11, 20),
                           ports={"hubspot": 0}, systems=("hubspot",))
    server.start()
    try:
        source = {o: {hs_id(i) for (i,) in server.store.conn().execute(
            f'SELECT Id FROM "{OBJECTS[o][0]}" WHERE IsDeleted = 0')} for o in SEARCHED}
        print(f"firm ({args.scale}): " + ", ".join(f"{len(v):,} {k}" for k, v in source.items()))
        runs = {}
        for label, cap, paced, faults in (
                ("baseline", 10_000, True, {"search_result_cap": None}),
                ("narrowed", args.cap, True, {"search_result_cap": args.cap}),
                ("limited", args.cap, False, {"search_result_cap": args.cap, "search_requests_per_second": 5,
                                              "rate_limit_rate": 0.1, "seed": 9})):
            server.set_faults("hubspot", faults)
            runs[label] = r = read_all(server, cap, paced)
            for obj in SEARCHED:
                ids = r["seen"][obj]
                assert set(ids) == source[obj], f"{label}: {obj} read differs from the firm"
            dupes = sum(len(v) - len(set(v)) for v in r["seen"].values())
            print(f"{label:9s} records {sum(len(v) for v in r['seen'].values()):,} (re-read at window edges "
                  f"{dupes}), queries {r['queries']}, calls {r['calls']}, 429s {r['429s']}, {r['seconds']} s, "
                  f"x{r['seconds'] / runs['baseline']['seconds']:.2f} of the baseline  "
                  f"(load {os.getloadavg()[0]:.1f})")
        # the limits were met, and every 429 waited out: the read went on to equal the firm (a 429 left unhandled
        # would have ended it with RateLimited after the client's attempts)
        assert runs["limited"]["429s"] > 0, "the limited read met no 429: the limits were not exercised"
        # past the cap: the narrowed reads started more queries than there are objects
        assert runs["narrowed"]["queries"] > len(SEARCHED), "no read went past the search cap"
        print("nothing missed: every read equals the firm's live records; "
              f"{runs['limited']['429s']} 429s met and waited out, none left unhandled")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
