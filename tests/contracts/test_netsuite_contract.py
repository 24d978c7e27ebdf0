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


def test_client_assertion_is_a_standard_jwt_the_token_endpoint_accepts(vendor, ca, hub_clients):
    # NetSuite Help, "OAuth 2.0 Client Credentials Setup" / "Using the client credentials flow": POST
    # /services/rest/auth/oauth2/v1/token, grant_type=client_credentials, client_assertion_type=...jwt-bearer,
    # client_assertion = JWT with header kid = certificate id, alg ES256 (EC key) or PS256 (RSA); claims iss, scope,
    # aud = the token URL, iat, exp (at most an hour). Signed by PyJWT; verifiable by any JWT library.
    from pathlib import Path

    import jwt
    from cryptography.hazmat.primitives import serialization

    from connectors.netsuite import TOKEN_PATH, client_assertion

    creds = vendor.credentials["netsuite"]
    audience = vendor.urls["netsuite"] + TOKEN_PATH
    assertion = client_assertion(creds["client_id"], creds["certificate_id"],
                                 Path(creds["private_key_path"]).read_text(), audience)
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == "ES256" and header["kid"] == creds["certificate_id"]
    public = serialization.load_pem_private_key(Path(creds["private_key_path"]).read_bytes(), None).public_key()
    claims = jwt.decode(assertion, public, algorithms=["ES256"], audience=audience)
    assert claims["iss"] == creds["client_id"] and "rest_webservices" in claims["scope"]
    assert claims["exp"] - claims["iat"] <= 3600
    assert hub_clients["netsuite"].token()  # the sandbox's token endpoint took it
