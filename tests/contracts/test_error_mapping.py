"""One mapping of an error answer to its exception for every system (connectors/http.py, error_for): the same
kind of refusal raises the same class whichever API answered, so retries and messages are decided once.

Statuses as each vendor documents them: Salesforce REST API Developer Guide, "Status Codes and Error Responses"
(400 MALFORMED_QUERY / INVALID_FIELD, 404 NOT_FOUND, 500); NetSuite REST Web Services, "Error Handling and
Error Codes" (400, 404 NONEXISTENT_ID, 429, 500); Kantata API, "Errors" and "Rate limits" (400, 404, 429 with
Retry-After, 500). The sandbox answers them as the existing contract tests assert."""
from __future__ import annotations

import pytest

from connectors.http import NotFoundError, RateLimited, ServerError, ValidationError

SYSTEMS = ("salesforce", "netsuite", "kantata")


def first_page(system: str, client) -> list[dict]:
    if system == "salesforce":
        return next(client.query_pages("SELECT Id FROM Account LIMIT 1"))
    if system == "netsuite":
        return next(client.suiteql_pages("SELECT id FROM customer"))
    return next(client.list_pages("workspaces"))


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_server_error_and_a_rate_limit_raise_the_same_transient_exceptions_everywhere(system, hub_clients, faults):
    client = hub_clients[system]
    faults(system, error_rate=1.0)
    with pytest.raises(ServerError) as server:
        first_page(system, client)
    assert server.value.status == 500 and server.value.transient
    faults(system, error_rate=0.0, rate_limit_rate=1.0, retry_after_seconds=1)
    with pytest.raises(RateLimited) as limited:
        first_page(system, client)
    assert limited.value.transient
    # Salesforce refuses with 403 (concurrent requests), the others with 429; only Kantata sends a Retry-After
    assert limited.value.status == (403 if system == "salesforce" else 429)
    assert limited.value.retry_after == (1 if system == "kantata" else None)


def test_a_missing_record_raises_not_found_everywhere(hub_clients):
    sf, ns, kt = (hub_clients[s] for s in SYSTEMS)
    with pytest.raises(NotFoundError) as salesforce:
        sf.request("GET", "/services/data/v62.0/sobjects/Account/001000000000000AAA")
    with pytest.raises(NotFoundError) as netsuite:
        ns.get("customer", "999999999")
    with pytest.raises(NotFoundError) as kantata:
        kt.request("GET", "/api/v1/no_such_things.json")
    assert (salesforce.value.status, netsuite.value.status, kantata.value.status) == (404, 404, 404)
    assert (salesforce.value.code, netsuite.value.code) == ("NOT_FOUND", "NONEXISTENT_ID")
    assert not any(e.value.transient for e in (salesforce, netsuite, kantata))


def test_a_request_the_system_will_not_take_raises_validation_error_everywhere(hub_clients):
    sf, ns, kt = (hub_clients[s] for s in SYSTEMS)
    with pytest.raises(ValidationError) as salesforce:
        next(sf.query_pages("SELECT No_Such_Field__c FROM Account"))
    with pytest.raises(ValidationError) as netsuite:
        next(ns.suiteql_pages("SELEC id FRO customer"))
    with pytest.raises(ValidationError) as kantata:
        kt.request("GET", "/api/v1/workspaces.json", params={"page": "first"})
    assert {e.value.status for e in (salesforce, netsuite, kantata)} == {400}
    assert all(e.value.message for e in (salesforce, netsuite, kantata))
