"""Every response dates itself: the HTTP Date header, on the source's own clock.

RFC 9110 section 6.6.1 ("Date"): "An origin server with a clock (as defined in Section 5.6.7) MUST generate a Date
header field in all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error) responses"; the value is the time the
message was originated, an HTTP-date in GMT to the second (section 5.6.7); an origin server without a clock MUST NOT
send one. Salesforce documents it in its REST API responses ("Limit Info Header": `HTTP/1.1 200 OK`, `Date: Mon, 20
May 2013 22:21:46 GMT`, `Sforce-Limit-Info: ...`); NetSuite's and Kantata's REST APIs are HTTPS origins like any
other, under the same rule. The hub reads a source's clock from it (connectors/http.py SourceClock) to know where the
next incremental read must start (flows/objects.py read_since); with no Date it falls back to the cursor less the
overlap. The sandbox's clock is simulated (`tick` moves it on by days and stamps records with it): its Date must be
that clock, not the machine's.
"""
from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from connectors.http import date_of
from sandbox.server import SandboxServer

READS = {"salesforce": lambda c: next(c.query_pages("SELECT Id FROM Account LIMIT 1")),
         "netsuite": lambda c: next(c.suiteql_pages("SELECT id FROM customer")),
         "kantata": lambda c: next(c.list_pages("workspaces"))}


def firm_now(url: str, **kw) -> dt.datetime:
    now = httpx.get(url + "/__sandbox/clock", timeout=30, **kw).json()["now"]
    return dt.datetime.fromisoformat(now.replace("Z", "+00:00")).replace(tzinfo=dt.timezone.utc)


def assert_dated_between(response: httpx.Response, before: dt.datetime, after: dt.datetime) -> dt.datetime:
    assert "date" in response.headers, (response.request.url, dict(response.headers))
    date = email.utils.parsedate_to_datetime(response.headers["date"])
    assert date.tzinfo is not None and response.headers["date"].endswith(" GMT")  # IMF-fixdate (section 5.6.7)
    assert before.replace(microsecond=0) <= date <= after, (response.request.url, before, date, after)
    return date


def test_every_system_dates_its_answers_by_the_sandbox_clock(vendor, ca):
    """A 2xx and a 4xx of each system (RFC 9110 section 6.6.1: both MUST carry a Date), on the firm's clock."""
    for system, url in vendor.urls.items():
        before = firm_now(url, verify=ca)
        ok = httpx.get(url + "/__sandbox/info", verify=ca, timeout=30)
        missing = httpx.get(url + "/no/such/resource", verify=ca, timeout=30)
        after = firm_now(url, verify=ca)
        assert ok.status_code == 200 and 400 <= missing.status_code < 500, (system, missing.status_code)
        assert_dated_between(ok, before, after)
        assert_dated_between(missing, before, after)


@pytest.mark.parametrize("system", sorted(READS))
def test_the_hubs_reads_see_the_source_clock(system, vendor, ca, hub_clients):
    """A read through the hub's connector: SourceClock.read_from is the earliest Date less its round trip, so at or
    before the firm's clock when the read began."""
    client = hub_clients[system]
    before = firm_now(vendor.urls[system], verify=ca)
    with client.source_clock() as clock:
        READS[system](client)
    after = firm_now(vendor.urls[system], verify=ca)
    assert clock.responses >= 1 and clock.undated == 0
    assert before - dt.timedelta(seconds=30) <= clock.read_from <= after
    assert clock.read_from <= before + dt.timedelta(seconds=1)  # no later than the read's first request, to the second


def test_a_clockless_origin_sends_no_date_and_the_hub_knows_nothing_of_its_clock(vendor, ca, hub_clients, faults):
    """The `clockless` fault: an origin server without a clock MUST NOT send a Date (RFC 9110 section 6.6.1); the
    hub's SourceClock then says nothing (read_from None), and the next read starts at the cursor less the overlap."""
    faults("kantata", clockless=True)
    assert "date" not in httpx.get(vendor.urls["kantata"] + "/__sandbox/info", verify=ca, timeout=30).headers
    with hub_clients["kantata"].source_clock() as clock:
        READS["kantata"](hub_clients["kantata"])
    assert clock.responses >= 1 and clock.undated == clock.responses and clock.read_from is None


@pytest.fixture(scope="module")
def past_firm(tmp_path_factory):
    """A firm whose clock started on 4 March 2025, each system in a process of its own: its Date is not today's."""
    server = SandboxServer(tmp_path_factory.mktemp("dated-sandbox"), scale="demo", seed=5, processes=True,
                           anchor=dt.datetime(2025, 3, 4, 10, 0), systems=("salesforce", "netsuite", "kantata"))
    server.start()
    yield server
    server.stop()


def test_the_date_is_the_firms_simulated_clock_and_a_tick_moves_it(past_firm):
    machine = dt.datetime.now(dt.timezone.utc)
    dates = {}
    for system, url in past_firm.urls.items():
        before = firm_now(url)
        dates[system] = assert_dated_between(httpx.get(url + "/__sandbox/info", timeout=30), before, firm_now(url))
        assert abs(dates[system] - machine) > dt.timedelta(days=200), (system, dates[system], machine)
        assert dates[system].date() == dt.date(2025, 3, 4)
    past_firm.tick(2)
    for system, url in past_firm.urls.items():
        response = httpx.get(url + "/no/such/resource", timeout=30)
        assert date_of(response) - dates[system] >= dt.timedelta(days=2), (system, response.headers.get("date"))
