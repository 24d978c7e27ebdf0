"""NetSuite REST web services contracts (SuiteQL and records), against the sandbox over HTTPS."""
from __future__ import annotations

SUITEQL = "/query/v1/suiteql"


def test_suiteql_without_a_table_alias(ns_http, hub_clients):
    # NetSuite Help, "query.runSuiteQL(options)": `SELECT customer.entityid, customer.email FROM customer`, columns
    # qualified by the table's own name; "Executing SuiteQL Queries Through REST Web Services" and the suiteql npm
    # client: `select id from transaction`, no alias at all. `transaction` is the table most often queried this way.
    for q in ("SELECT id FROM transaction", "SELECT transaction.id, transaction.tranid FROM transaction",
              "SELECT * FROM transaction", "select id from transaction where id > 0"):
        r = ns_http.post(SUITEQL, params={"limit": 5}, json={"q": q})
        assert r.status_code == 200, (q, r.text)
        assert r.json()["items"] and "id" in r.json()["items"][0]
    rows = next(iter(hub_clients["netsuite"].suiteql_pages("SELECT id FROM transaction ORDER BY id")))
    assert rows == sorted(rows, key=lambda r: int(r["id"]))


def test_suiteql_pages_with_links_count_hasmore_and_totalresults(ns_http):
    # NetSuite Help, "Executing SuiteQL Queries Through REST Web Services" / "Collection Paging": limit up to 1000,
    # offset; the body has links (next when there is more), count, hasMore, items, offset, totalResults.
    r = ns_http.post(SUITEQL, params={"limit": 2, "offset": 0}, json={"q": "SELECT id FROM customer ORDER BY id"})
    body = r.json()
    assert r.status_code == 200 and body["count"] == 2 and body["hasMore"] is True and body["totalResults"] > 2
    assert "next" in {link["rel"] for link in body["links"]}
    assert ns_http.post(SUITEQL, params={"limit": 1001}, json={"q": "SELECT id FROM customer"}).status_code == 400


def test_suiteql_leaves_out_null_columns(ns_http):
    # SuiteQL items omit columns whose value is null (each item carries only the fields that have a value).
    r = ns_http.post(SUITEQL, params={"limit": 1000}, json={"q": "SELECT id, externalid FROM customer"})
    items = r.json()["items"]
    assert any("externalid" not in i for i in items) and all("id" in i for i in items)
