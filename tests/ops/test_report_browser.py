"""`pshub report` opened in real headless Chromium: it loads offline without errors and draws its charts.

The report is generated from a hub of its own (home, database, sandbox firm, one cycle), with an overdue invoice
planted in the ERP, so that what the charts must show does not depend on the other tests or on today's date."""
from __future__ import annotations

import copy

import psycopg
import pytest

from ops_browser import PageSession, chromium_path
from isolated_hub import isolated_hub
from sandbox_state import plant_overdue_invoice, plant_time_entry_today, plant_unmatched_customer

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
    from pshub.app.report import gather, write_report

    with isolated_hub(warehouse_url, home / "report", "pshub_report_test") as env:
        invoice = plant_overdue_invoice(env["sandbox"].store, days_overdue=45)
        unmatched = plant_unmatched_customer(env["sandbox"].store, amount=16445.00)
        plant_time_entry_today(env["sandbox"].store)  # the current week is in the utilization chart on any weekday
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
        yield {"env": env, "summary": summary, "path": path, "data": data, "facts": facts, "unmatched": unmatched}


@pytest.fixture(scope="module")
def report_page(report_hub):
    with PageSession(report_hub["path"].as_uri()) as page:
        yield report_hub["path"], page


def _marks(page, charts) -> dict[str, int]:
    """Values each chart drew: the points of its Chart.js datasets (bars above zero, line points)."""
    return {c: page.evaluate(f"""(() => {{ const chart = Chart.getChart(document.querySelector('#{c} canvas'));
        return chart ? chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v !== null &&
            (chart.config.type === 'line' || v > 0)).length, 0) : 0; }})()""") for c in charts}


def _counts(marks: dict[str, int]) -> str:
    return "marks per chart: " + ", ".join(f"{c}={n}" for c, n in marks.items())


def test_the_report_loads_without_console_errors_or_exceptions(report_page):
    _, page = report_page
    assert page.errors == []


def test_the_report_asks_the_network_for_nothing_but_itself(report_page):
    path, page = report_page
    assert page.requests == [path.as_uri()]


def test_every_chart_is_drawn_by_the_bundled_chart_library(report_page):
    _, page = report_page
    assert page.evaluate("Chart.version") == "4.6.1"  # Chart.js, inline in the page (the network test: nothing fetched)
    assert page.evaluate("document.body.getAttribute('data-charts-drawn')") == str(len(CHARTS))
    drawn = page.evaluate("""Array.from(document.querySelectorAll('.chart')).map(c => [c.id, c.getAttribute('data-drawn'),
        c.getAttribute('data-empty') === 'true' || (c.querySelectorAll('canvas').length === 1
            && !!Chart.getChart(c.querySelector('canvas')) && c.querySelector('canvas').width > 0)])""")
    assert sorted(drawn) == sorted([[c, "true", True] for c in CHARTS])
    # a chart with data paints pixels: its canvas is not blank
    painted = page.evaluate("""Array.from(document.querySelectorAll('.chart canvas')).map(cv => {
        const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        for (let i = 3; i < px.length; i += 4) if (px[i] > 0) return true; return false; })""")
    assert painted and all(painted)


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
    from pshub.app.report import render

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
                                  f" document.querySelector('#{chart} .empty').textContent,"
                                  f" document.querySelectorAll('#{chart} canvas').length]")
            assert state == ["true", "no data for this period", 0], chart


def test_the_browser_check_catches_a_broken_page(tmp_path):
    """The same check fails on a page whose script throws or logs an error (the check can fail)."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('broken chart'); undefinedFunction();</script></body></html>")
    with PageSession(bad.as_uri()) as page:
        assert any("broken chart" in e for e in page.errors)
        assert any("undefinedFunction" in e for e in page.errors)


def _table(page, container: str) -> list[dict]:
    return page.evaluate(f"""Array.from(document.querySelectorAll('#{container} tbody tr')).map(tr =>
        Object.fromEntries(Array.from(tr.querySelectorAll('td')).map(td => [td.dataset.col, td.textContent])))""")


def test_the_reconciliation_lists_an_unmatched_erp_customer_with_its_amount(report_page, report_hub):
    _, page = report_page
    planted = report_hub["unmatched"]
    rows = [r for r in _table(page, "reconciliation-customers") if r["erp_customer_id"] == planted["erp_customer_id"]]
    assert rows == [{"finding": "no CRM account", "currency_code": planted["currency"], "customer_name": planted["name"],
                     "erp_customer_id": planted["erp_customer_id"], "crm_account_id": "", "erp_open_ar": "16,445.00",
                     "erp_overdue_ar": "16,445.00", "crm_open_ar": ""}]
    # and in money per currency: the ERP's open AR in that currency holds it, as unmatched
    totals = {r["currency_code"]: r for r in _table(page, "reconciliation-money")}
    gbp = totals[planted["currency"]]
    assert float(gbp["unmatched_open_ar"].replace(",", "")) >= planted["amount"]
    assert float(gbp["erp_open_ar"].replace(",", "")) == pytest.approx(
        float(gbp["on_crm_accounts"].replace(",", "")) + float(gbp["unmatched_open_ar"].replace(",", "")))


def test_the_reconciliation_money_per_currency_equals_the_erps_own_open_invoices(report_hub):
    """ERP open AR per currency in the report = the sum of the ERP's unpaid amounts of open invoices and credit memos
    in that currency (SuiteQL against the sandbox), never a sum across currencies."""
    from pshub.clients import client_for

    with client_for("netsuite") as ns:
        currencies = {str(r["id"]): r["name"] for page in ns.suiteql_pages("SELECT c.id, c.name FROM currency c")
                      for r in page}
        erp: dict[str, float] = {}
        for page in ns.suiteql_pages("SELECT t.type, t.currency, t.foreignamountunpaid FROM transaction t "
                                     "WHERE t.type IN ('CustInvc', 'CustCred')"):
            for r in page:
                unpaid = abs(float(r["foreignamountunpaid"] or 0)) * (-1 if r["type"] == "CustCred" else 1)
                code = currencies[str(r["currency"])]
                erp[code] = erp.get(code, 0.0) + unpaid
    report = {t["currency_code"]: float(t["erp_open_ar"]) for t in report_hub["data"]["reconciliation_money"]["totals"]
              if float(t["erp_open_ar"]) != 0}
    assert report == {code: pytest.approx(amount, abs=0.01) for code, amount in erp.items() if round(amount, 2) != 0}


def test_finance_tables_carry_the_ids_to_look_up(report_page, report_hub):
    _, page = report_page
    overdue = _table(page, "table-overdue")
    assert any(r["erp_customer_id"] == report_hub["unmatched"]["erp_customer_id"] for r in overdue)
    assert all(r["erp_customer_id"] and r["overdue_ar"] for r in overdue)
    stuck = _table(page, "table-stuck")
    assert all(r["source_system"] and r["source_record_id"] for r in stuck)
    assert page.evaluate("document.querySelector('#table-credit-holds').getAttribute('data-rows')") == str(
        len(report_hub["data"]["actions"]["credit_holds"]))


def test_the_current_week_is_marked_incomplete(report_page, report_hub):
    _, page = report_page
    weeks = report_hub["data"]["kpis"]["utilization"]
    assert weeks and weeks[-1]["incomplete"] is True and not any(w["incomplete"] for w in weeks[:-1])
    hollow = page.evaluate("document.querySelector('#chart-utilization').getAttribute('data-incomplete')")
    assert hollow == "2"  # billable and total utilization of the current week
    labels = page.evaluate("Chart.getChart(document.querySelector('#chart-utilization canvas')).data.labels")
    assert labels[-1].endswith("*") and not any(label.endswith("*") for label in labels[:-1])
    assert "incomplete" in page.evaluate("document.querySelector('#chart-utilization .note').textContent")


def test_every_series_of_a_chart_has_its_own_colour(report_page):
    _, page = report_page
    colours = page.evaluate("""Array.from(document.querySelectorAll('.chart canvas')).map(cv =>
        Chart.getChart(cv).data.datasets.filter(d => !Array.isArray(d.backgroundColor)).map(d => d.backgroundColor))""")
    assert colours and all(len(set(c)) == len(c) for c in colours), colours
