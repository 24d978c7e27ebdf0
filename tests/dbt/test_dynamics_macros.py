"""The Dynamics 365 Finance macros that number the firm's people: a NetSuite employee id becomes the worker's personnel
number (E + at least 6 digits) and back, whatever its length. The macros' SQL, rendered from the project's macro file,
runs in the warehouse's PostgreSQL."""
from __future__ import annotations

from pathlib import Path

import jinja2

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "dynamics_outbound.sql"


def _macros():
    # only the macros' definitions render at the top of the file (refs are called when a macro that uses one runs)
    return jinja2.Environment(extensions=["jinja2.ext.do"]).from_string(MACROS.read_text()).module


def test_a_worker_number_keeps_every_digit_of_the_employee_id_and_reads_back(db):
    macros = _macros()
    ids = ["7", "42", "123456", "1234567", "98765432101"]
    rows = db.execute(
        f"select id, {macros.d365_worker('v.id')} as worker, "
        f"{macros.d365_worker_employee(macros.d365_worker('v.id'))} as back "
        f"from unnest(%s::text[]) as v(id)", (ids,)).fetchall()
    got = {i: (worker, back) for i, worker, back in rows}
    assert got == {"7": ("E000007", "7"), "42": ("E000042", "42"), "123456": ("E123456", "123456"),
                   # longer ids are never cut (lpad alone would keep the first 6 digits: E123456 for both)
                   "1234567": ("E1234567", "1234567"), "98765432101": ("E98765432101", "98765432101")}
    assert db.execute(f"select {macros.d365_worker('null::text')}").fetchone()[0] is None
