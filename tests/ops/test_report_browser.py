"""`pshub report` opened in real headless Chromium: it loads offline without errors and draws its charts."""
from __future__ import annotations

import pytest

from ops_browser import PageSession, chromium_path

pytestmark = pytest.mark.skipif(
    chromium_path() is None,
    reason="Debian's chromium is not installed (apt-get install -y --no-install-recommends chromium)")

CHARTS = ["chart-cycle-duration", "chart-cycle-volume", "chart-exceptions", "chart-stuck", "chart-reconciliation",
          "chart-burn", "chart-margin", "chart-utilization", "chart-aging"]
# charts the first cycle of a demo firm always has data for
CHARTS_WITH_DATA = ["chart-cycle-duration", "chart-cycle-volume", "chart-reconciliation", "chart-burn",
                    "chart-utilization", "chart-aging"]


@pytest.fixture(scope="module")
def report_page(first_cycle, ops_env):
    from pshub.report import write_report

    path = write_report(ops_env["home"] / "report.html")
    with PageSession(path.as_uri()) as page:
        yield path, page


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


def test_charts_with_data_draw_one_mark_per_value(report_page, ops_conn):
    _, page = report_page
    marks = {c: page.evaluate(f"document.querySelectorAll('#{c} svg .mark').length") for c in CHARTS_WITH_DATA}
    assert all(n > 0 for n in marks.values()), marks
    cycles = ops_conn.execute("select count(*) from ops.runs where kind = 'cycle' and finished_at is not null").fetchone()[0]
    assert marks["chart-cycle-duration"] == cycles
    buckets = ops_conn.execute("select count(distinct aging_bucket) from marts.invoices where aging_bucket <> 'paid'"
                               " and amount_open_reporting > 0").fetchone()[0]
    assert marks["chart-aging"] == buckets


def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The same check fails on a page whose script throws or logs an error (the check can fail)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('broken chart'); undefinedFunction();</script></body></html>")
    with PageSession(bad.as_uri()) as page:
        assert any("broken chart" in e for e in page.errors)
        assert any("undefinedFunction" in e for e in page.errors)
