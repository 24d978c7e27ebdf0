"""`pshub report` opened in real headless Chromium: it loads offline without errors and draws its charts.

The report is generated from a hub of its own (home, database, sandbox firm, one cycle), with an overdue invoice
planted in the ERP, so that what the charts must show does not depend on the other tests or on today's date."""
from __future__ import annotations

import copy

import psycopg
import pytest

from ops_browser import PageSession, chromium_path
from ops_hub import isolated_hub
from sandbox_state import plant_overdue_invoice

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="Debian's chromium is not installed (apt-get install -y --no-install-recommends chromium)")

CHARTS = ["chart-cycle-duration", "chart-cycle-volume", "chart-exceptions", "chart-stuck", "chart-reconciliation",
          "chart-burn", "chart-margin", "chart-utilization", "chart-aging"]
# charts that one cycle of a demo firm with an overdue invoice always has data for
CHARTS_WITH_DATA = ["chart-cycle-duration", "chart-cycle-volume", "chart-reconciliation", "chart-burn",
                    "chart-utilization", "chart-aging"]


@pytest.fixture(scope="module")
def report_hub(warehouse_url, home):
    """One cycle of a fresh demo firm holding one invoice 45 days overdue; the report's data gathered from it."""
    from flows.hub import hub
    from pshub.report import gather, write_report

    with isolated_hub(warehouse_url, home / "report", "pshub_report_test") as env:
        invoice = plant_overdue_invoice(env["sandbox"].store, days_overdue=45)
        summary = hub()
        path = write_report(env["home"] / "report.html")
        with psycopg.connect(env["database_url"]) as conn:
            data = gather(conn)
            facts = {
                "cycles": conn.execute("select count(*) from ops.runs where kind = 'cycle'"
                                       " and finished_at is not null").fetchone()[0],
                "aging_buckets": conn.execute("select count(distinct aging_bucket) from marts.invoices"
                                              " where aging_bucket <> 'paid' and amount_open_reporting > 0").fetchone()[0],
                "planted_bucket": conn.execute("select aging_bucket from marts.invoices where document_number = %s",
                                               (invoice,)).fetchone(),
            }
        yield {"env": env, "summary": summary, "path": path, "data": data, "facts": facts}


@pytest.fixture(scope="module")
def report_page(report_hub):
    with PageSession(report_hub["path"].as_uri()) as page:
        yield report_hub["path"], page


def _marks(page, charts) -> dict[str, int]:
    return {c: page.evaluate(f"document.querySelectorAll('#{c} svg .mark').length") for c in charts}


def _counts(marks: dict[str, int]) -> str:
    return "marks per chart: " + ", ".join(f"{c}={n}" for c, n in marks.items())


def test_the_report_loads_without_console_errors_or_exceptions(report_page):
    _, page = report_page
    assert page.errors == []


def test_the_report_asks_the_network_for_nothing_but_itself(report_page):
    path, page = report_page
    assert page.requests == [path.as_uri()]


def test_every_chart_is_drawn_as_svg(report_page):
    _, page = report_page
    assert page.evaluate("document.body.getAttribute('data-charts-drawn')") == str(len(CHARTS))
    drawn = page.evaluate("Array.from(document.querySelectorAll('.chart')).map(c => "
                          "[c.id, c.getAttribute('data-drawn'), c.querySelectorAll('svg').length])")
    assert sorted(drawn) == sorted([[c, "true", 1] for c in CHARTS])


def test_the_planted_overdue_invoice_is_open_in_the_marts(report_hub):
    assert report_hub["facts"]["planted_bucket"] == ("31-60",)


def test_charts_with_data_draw_one_mark_per_value(report_page, report_hub):
    _, page = report_page
    marks = _marks(page, CHARTS_WITH_DATA)
    assert all(n > 0 for n in marks.values()), _counts(marks)
    assert marks["chart-cycle-duration"] == report_hub["facts"]["cycles"] == 1, _counts(marks)
    assert marks["chart-aging"] == report_hub["facts"]["aging_buckets"], _counts(marks)


def test_a_chart_with_nothing_to_show_says_so_instead_of_drawing_empty_axes(report_hub, tmp_path):
    """Rows whose values are all zero or missing (no open invoice, no margin yet) give the explicit empty state."""
    from pshub.report import render

    data = copy.deepcopy(report_hub["data"])
    data["kpis"]["aging"] = [{**a, "amount": 0} for a in data["kpis"]["aging"]]
    data["kpis"]["margin"] = [{**m, "margin": None} for m in data["kpis"]["margin"]]
    assert data["kpis"]["aging"] and data["kpis"]["margin"]  # rows present: only their values are empty
    path = tmp_path / "empty.html"
    path.write_text(render(data), encoding="utf-8")
    with PageSession(path.as_uri()) as page:
        assert page.errors == []
        assert page.evaluate("document.body.getAttribute('data-charts-drawn')") == str(len(CHARTS))
        for chart in ("chart-aging", "chart-margin"):
            state = page.evaluate(f"[document.querySelector('#{chart}').getAttribute('data-empty'),"
                                  f" document.querySelector('#{chart} svg').textContent,"
                                  f" document.querySelectorAll('#{chart} svg .mark').length]")
            assert state == ["true", "no data for this period", 0], chart


def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The same check fails on a page whose script throws or logs an error (the check can fail)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('broken chart'); undefinedFunction();</script></body></html>")
    with PageSession(bad.as_uri()) as page:
        assert any("broken chart" in e for e in page.errors)
        assert any("undefinedFunction" in e for e in page.errors)
