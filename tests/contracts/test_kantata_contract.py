"""Kantata (Mavenlink) API v1 read contracts, against the sandbox over HTTPS, and the hub's reads that rely on them."""
from __future__ import annotations

import pytest

from connectors import catalog
from connectors.kantata import parse_datetime


def _ids(body: dict, resource: str) -> list[str]:
    return [str(r["id"]) for r in body["results"] if r["key"] == resource]


def test_list_envelope_orders_results_and_maps_records_by_id(kt_http):
    # developer.kantata.com, "Response Format": {count, meta:{count, page_count, page_number, page_size}, results:
    # [{key, id}], <type>: {id: record}}; the order is the order of `results`. per_page at most 200.
    body = kt_http.get("/workspaces.json", params={"per_page": 500}).json()
    assert set(body) >= {"count", "meta", "results", "workspaces"}
    assert body["meta"]["page_size"] == 200
    assert all(i in body["workspaces"] for i in _ids(body, "workspaces"))


def test_custom_field_values_need_subject_type(kt_http):
    # developer.kantata.com, Custom Field Values, "Fetching Custom Field Values": subject_type is required.
    assert kt_http.get("/custom_field_values.json").status_code == 400
    ok = kt_http.get("/custom_field_values.json", params={"subject_type": "Workspace"})
    assert ok.status_code == 200 and ok.json()["count"] > 0
    assert {v["subject_type"] for v in ok.json()["custom_field_values"].values()} == {"Workspace"}


def test_custom_field_value_post_overrides_the_subjects_value(kt_http):
    # developer.kantata.com, "Creating a new Custom Field Value": "Creating a value can also override existing
    # values, effectively making this an update request as well."
    workspace = _ids(kt_http.get("/workspaces.json", params={"per_page": 1}).json(), "workspaces")[0]
    for value in ("first", "second"):
        r = kt_http.post("/custom_field_values.json", json={"custom_field_value": {
            "subject_type": "Workspace", "subject_id": workspace, "custom_field_id": 2, "value": value}})
        assert r.status_code == 200
    values = kt_http.get("/custom_field_values.json", params={"subject_type": "Workspace", "subject_id": workspace,
                                                               "custom_field_id": 2}).json()["custom_field_values"]
    assert [v["value"] for v in values.values()] == ["second"]


def test_archived_workspaces_only_with_include_archived_and_their_time_only_with_from_archived(kt_http):
    # Kantata API, Workspaces: archived workspaces are excluded unless include_archived=true; Time Entries: entries
    # of archived workspaces are excluded unless from_archived_workspaces=true (the default is false). The Singer tap
    # for Mavenlink and Mavenlink's own Ruby gem both pass from_archived_workspaces=true for this reason.
    default = kt_http.get("/workspaces.json", params={"per_page": 200}).json()
    every = kt_http.get("/workspaces.json", params={"per_page": 200, "include_archived": "true"}).json()
    assert every["count"] > default["count"]
    assert not any(w["archived"] for w in default["workspaces"].values())
    assert any(w["archived"] for w in every["workspaces"].values())
    hidden = kt_http.get("/time_entries.json", params={"per_page": 1}).json()["count"]
    shown = kt_http.get("/time_entries.json", params={"per_page": 1, "from_archived_workspaces": "true"}).json()["count"]
    assert shown > hidden


def test_the_hub_reads_archived_workspaces_and_their_time(hub_clients):
    # The catalog's fixed parameters: what lands includes archived projects, so the delete reconciliation (which
    # lists every id with the same parameters) never takes "archived" for "deleted".
    kt = hub_clients["kantata"]
    (workspaces,) = catalog.find("kantata", "workspaces")
    (time_entries,) = catalog.find("kantata", "time_entries")
    listed = {i for page in kt.list_ids("workspaces", dict(workspaces.params)) for i in page}
    archived = {str(w["id"]) for page in kt.list_pages("workspaces", {"include_archived": "true"}) for w in page
                if w["archived"]}
    assert archived and archived <= listed
    read = sum(len(p) for p in kt.changed_pages("time_entries", None, dict(time_entries.params)))
    assert read == kt._page("time_entries", {"from_archived_workspaces": "true", "per_page": 1}, 1)["count"]


def test_an_order_the_endpoint_does_not_know_falls_back_to_its_default_silently(kt_http):
    # developer.kantata.com, "Ordering": each endpoint orders by its own fields; Kantata's brainstem framework uses the
    # endpoint's default order for any other value, with no error. Users sort alphabetically only.
    asked = kt_http.get("/users.json", params={"per_page": 50, "order": "updated_at:asc"})
    assert asked.status_code == 200
    body = asked.json()
    names = [body["users"][i]["full_name"] for i in _ids(body, "users")]
    assert names == sorted(names)
    nonsense = kt_http.get("/time_entries.json", params={"per_page": 20, "order": "no_such_field:desc"}).json()
    default = kt_http.get("/time_entries.json", params={"per_page": 20}).json()
    assert _ids(nonsense, "time_entries") == _ids(default, "time_entries")


def test_every_order_the_hub_asks_for_is_one_the_endpoint_honours(hub_clients):
    # The hub asks order=updated_at:asc only of endpoints that sort by it; each read comes oldest change first.
    kt = hub_clients["kantata"]
    for obj in catalog.find("kantata"):
        if not kt.ordered_by_updated_at(obj.name):
            continue
        stamps = [parse_datetime(r["updated_at"]) for page in kt.changed_pages(obj.name, None, dict(obj.params))
                  for r in page]
        assert stamps == sorted(stamps), obj.name


def test_unknown_include_names_are_ignored_not_refused(kt_http):
    # Kantata ignores include names it does not know (a third-party tap sent one and failed on a sandbox that
    # refused it); known ones side-load their records.
    r = kt_http.get("/time_entries.json", params={"per_page": 5, "include": "user,no_such_association"})
    assert r.status_code == 200 and r.json()["users"]


def test_every_page_carries_the_querys_count_and_its_own_page_number(kt_http):
    # developer.kantata.com, "Response Format": every list response has count and meta {count, page_count,
    # page_number, page_size}. The hub reads page_count from a read's first page and the count of a window from a
    # one-record page (connectors/kantata.py); the sandbox counts a query once, on its first page.
    params = {"per_page": 200, "from_archived_workspaces": "true"}
    first = kt_http.get("/time_entries.json", params=params).json()
    second = kt_http.get("/time_entries.json", params={**params, "page": 2}).json()
    assert first["count"] == first["meta"]["count"] == second["count"] == second["meta"]["count"] > 200
    assert (first["meta"]["page_number"], second["meta"]["page_number"]) == (1, 2)
    assert second["meta"]["page_count"] == -(-first["count"] // 200)
    assert not set(_ids(first, "time_entries")) & set(_ids(second, "time_entries"))


def test_the_count_of_a_date_window_is_the_number_of_its_records(hub_clients):
    # developer.kantata.com, "Response Format" (count: the query's whole count) and Time Entries' query parameter
    # date_performed_between=YYYY-MM-DD:YYYY-MM-DD: each cycle compares the count of the recent window with the
    # warehouse's before it lists the window's ids (flows/objects.py, confirm_recent).
    kt = hub_clients["kantata"]
    (time_entries,) = catalog.find("kantata", "time_entries")
    params = {**dict(time_entries.params), "date_performed_between": "2000-01-01:2100-12-31"}
    listed = sum(len(page) for page in kt.list_ids("time_entries", params))
    assert kt.count("time_entries", params) == listed > 0
    none = {**dict(time_entries.params), "date_performed_between": "1990-01-01:1990-01-31"}
    assert kt.count("time_entries", none) == 0


def test_bulk_create_takes_up_to_100_records_under_the_plural_key_in_request_order(kt_http):
    # developer.kantata.com, Workspaces, "Creating a new Workspace", Bulk Create: "This endpoint supports bulk
    # creating up to 100 objects. In the request body, set the top-level key to its plural form and place the
    # objects in an array"; "the returned data will be referenced in sorted order in the results array" (the
    # same for time entries; workspace resources take up to 200). The psa_* syncs create 100 a call.
    titles = [f"Bulk contract {i}" for i in range(3)]
    r = kt_http.post("/workspaces.json", json={"workspaces": [{"title": t, "creator_role": "maven"} for t in titles]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [body["workspaces"][i]["title"] for i in _ids(body, "workspaces")] == titles
    too_many = kt_http.post("/workspaces.json", json={"workspaces": [{"title": f"x{i}", "creator_role": "maven"}
                                                                     for i in range(101)]})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["type"] == "validation"


# -- authentication -------------------------------------------------------------------------------------------
def test_authorization_code_grant_gives_a_token_that_works_until_revoked(vendor, ca):
    # developer.kantata.com, "Obtaining tokens for users": /oauth/authorize?response_type=code&client_id=&redirect_uri=
    # sends the browser back to redirect_uri with a code; POST /oauth/token (client_id, client_secret,
    # grant_type=authorization_code, code, redirect_uri) gives the access token. "Security": tokens do not expire;
    # "If a user revokes your application's access, usage of the token will result in an error."
    import httpx

    from connectors.http import AuthError
    from connectors.kantata import KantataClient, authorize_url, exchange_code

    creds, base = vendor.credentials["kantata"], vendor.urls["kantata"]
    back = httpx.get(authorize_url(base, creds["client_id"], creds["redirect_uri"]), verify=ca)
    assert back.status_code == 302 and back.headers["Location"].startswith(creds["redirect_uri"] + "?code=")
    token = exchange_code(base, creds["client_id"], creds["client_secret"], creds["redirect_uri"],
                          back.headers["Location"], verify=ca)
    with pytest.raises(AuthError, match="invalid_grant|not accepted"):  # a code works once
        exchange_code(base, creds["client_id"], creds["client_secret"], creds["redirect_uri"],
                      back.headers["Location"], verify=ca)
    with KantataClient(base, {"token": token}, verify=ca) as kt:
        assert next(iter(kt.list_pages("roles")))
        httpx.post(base + "/__sandbox/tokens/revoke", json={"token": token}, verify=ca).raise_for_status()
        with pytest.raises(AuthError, match="PSHUB_KANTATA_TOKEN"):
            next(iter(kt.list_pages("roles", {"per_page": 2})))
    no_grant = httpx.post(base + "/oauth/token", verify=ca, data={
        "grant_type": "client_credentials", "client_id": creds["client_id"], "client_secret": creds["client_secret"]})
    assert no_grant.status_code == 400 and no_grant.json()["error"] == "unsupported_grant_type"


def test_pshub_kantata_authorize_prints_the_url_and_the_token_to_store(hub_sandbox):
    # The one-time exchange as a command, against the hub's sandbox (its registered application).
    import httpx
    from typer.testing import CliRunner

    from pshub.app.cli import app

    creds, base = hub_sandbox.credentials["kantata"], hub_sandbox.urls["kantata"]
    runner = CliRunner()
    first = runner.invoke(app, ["kantata", "authorize"], input="\n")
    assert "/oauth/authorize?response_type=code" in first.output
    location = httpx.get(f"{base}/oauth/authorize", params={"response_type": "code", "client_id": creds["client_id"],
                                                            "redirect_uri": creds["redirect_uri"]}).headers["Location"]
    done = runner.invoke(app, ["kantata", "authorize", "--code", location])
    assert done.exit_code == 0, done.output
    token = done.output.strip().splitlines()[-1].removeprefix("PSHUB_KANTATA_TOKEN=")
    assert httpx.get(base + "/api/v1/roles.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    stale = runner.invoke(app, ["kantata", "authorize", "--code", location])  # used already
    assert stale.exit_code == 1 and "new code" in stale.output


def test_a_record_edited_between_two_page_requests_comes_again_on_a_later_page(kt_http, vendor):
    # Kantata pages by number (page, per_page; developer.kantata.com, "Pagination"): a read ordered by updated_at
    # serves a record edited between two page requests again, newer, on a later page ("pagination returns the
    # latest results ... may lead to duplicate entries or missing items as data changes between page requests":
    # palantir.com/docs/foundry/api/general/overview/paging, on page-number paging in general).
    newest = kt_http.get("/time_entries.json", params={"per_page": 100, "order": "updated_at:desc"}).json()
    since = newest["time_entries"][_ids(newest, "time_entries")[-1]]["updated_at"]
    params = {"per_page": 20, "order": "updated_at:asc", "updated_after": since}
    first = kt_http.get("/time_entries.json", params={**params, "page": 1}).json()
    assert first["meta"]["page_count"] >= 2
    edited = _ids(first, "time_entries")[0]
    vendor.edit_while_paging("kantata", "time_entries", int(edited), {"notes": "edited between two pages"})
    first = kt_http.get("/time_entries.json", params={**params, "page": 1}).json()  # the edit follows this page
    served = [(i, first["time_entries"][i]["notes"]) for i in _ids(first, "time_entries")]
    page = 2
    while page <= first["meta"]["page_count"] + 1:
        body = kt_http.get("/time_entries.json", params={**params, "page": page}).json()
        served += [(i, body["time_entries"][i]["notes"]) for i in _ids(body, "time_entries")]
        if not body["results"]:
            break
        page += 1
    again = [notes for i, notes in served if i == edited]
    assert len(again) == 2 and again[1] == "edited between two pages" and again[0] != again[1]
    assert ["time_entries", int(edited)] in vendor.edited_while_paging()
