"""Sandbox speed: generate a firm, then page it with one sequential client.

Prints generation time, Kantata time entries/s (target >= 2,000/s) and Salesforce records/s
(target >= 10,000/s). Usage: python bench/sandbox.py [--scale medium] [--data-dir DIR] [--max-pages N]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sandbox.server import SandboxServer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium", choices=["demo", "medium", "large"])
    ap.add_argument("--data-dir", type=Path, default=None, help="reuse a firm here (default: a fresh temp folder)")
    ap.add_argument("--kantata-entries", type=int, default=200_000, help="time entries to page (0 = all)")
    args = ap.parse_args()
    tmp = None
    data = args.data_dir
    if data is None:
        tmp = tempfile.mkdtemp(prefix="pshub-bench-sandbox-")
        data = Path(tmp)
    try:
        t0 = time.perf_counter()
        sb = SandboxServer(data, scale=args.scale).start()
        gen = time.perf_counter() - t0
        counts = sb.generation or {}
        print(f"scale={args.scale} start (generation incl.)={gen:.1f}s "
              f"time_entries={counts.get('kt_time_entries', 'reused')} generation={counts.get('seconds', 'reused')}s")
        with httpx.Client(timeout=120) as c:
            tok = sb.credentials["kantata"]["token"]
            h = {"Authorization": f"Bearer {tok}"}
            n, page, t0 = 0, 1, time.perf_counter()
            while True:
                body = c.get(sb.urls["kantata"] + "/api/v1/time_entries.json",
                             params={"page": page, "per_page": 200, "from_archived_workspaces": "true",
                                     "order": "updated_at:asc"}, headers=h).json()
                n += len(body["results"])
                if page >= body["meta"]["page_count"] or (args.kantata_entries and n >= args.kantata_entries):
                    break
                page += 1
            kt_secs = time.perf_counter() - t0
            print(f"kantata: {n} time entries in {kt_secs:.1f}s = {n / kt_secs:,.0f}/s (target >= 2,000/s)")
            tok = c.post(sb.urls["salesforce"] + "/services/oauth2/token",
                         data={"grant_type": "client_credentials", **sb.credentials["salesforce"]}).json()["access_token"]
            h = {"Authorization": f"Bearer {tok}"}
            n, t0 = 0, time.perf_counter()
            for obj, fields in (("Opportunity", "Id, AccountId, Name, StageName, IsClosed, IsWon, CloseDate, Amount, "
                                                "CurrencyIsoCode, Billing_Model__c, Legal_Entity__c, SystemModstamp"),
                                ("OpportunityLineItem", "Id, OpportunityId, Role__c, Quantity, UnitPrice, SystemModstamp"),
                                ("Account", "Id, Name, CurrencyIsoCode, Legal_Entity__c, SystemModstamp")):
                body = c.get(sb.urls["salesforce"] + "/services/data/v62.0/queryAll", headers=h, params={
                    "q": f"SELECT {fields} FROM {obj} WHERE SystemModstamp >= 2000-01-01T00:00:00Z ORDER BY SystemModstamp ASC"}).json()
                n += len(body["records"])
                while not body["done"]:
                    body = c.get(sb.urls["salesforce"] + body["nextRecordsUrl"], headers=h).json()
                    n += len(body["records"])
            sf_secs = time.perf_counter() - t0
            print(f"salesforce: {n} records in {sf_secs:.2f}s = {n / sf_secs:,.0f}/s (target >= 10,000/s)")
        sb.stop()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
