"""The order the sync flow keeps: each sync's `after` covers the syncs whose results its outbound models read (their
ledger rows, through int_sync_created_ids, or their exceptions), read from the dbt project's SQL; and the flow's
scheduler starts a sync only after those, at most N at once, never two of one destination together."""
from __future__ import annotations

import dataclasses
import functools
import re
import threading
import time
from pathlib import Path

import pytest

from flows.sync import _run
from reverse_etl.engine import _lock_key
from reverse_etl.syncs import SYNCS, for_systems

DBT = Path(__file__).resolve().parents[2] / "dbt_project"
# the relations through which a model reads what syncs did: created ids, the ledger itself, the exceptions
# (a source read directly is named by its literal too: source('ops', 'sync_ledger'))
RESULTS = {"int_sync_created_ids", "stg_ops__sync_ledger", "stg_ops__sync_exceptions", "sync_ledger", "sync_exceptions"}
LITERAL = re.compile(r"'([A-Za-z0-9_]+)'")
OUTBOUND = {p.stem for p in (DBT / "models" / "outbound").glob("*.sql")}
CALL = re.compile(r"\b(\w+)\s*\(")
MACRO = re.compile(r"{%-?\s*macro\s+(\w+)\s*\((.*?){%-?\s*endmacro\s*-?%}", re.S)


@functools.cache
def _project() -> dict[str, set[str]]:
    """Each model of the dbt project: the string literals of its SQL and of the project's macros it calls (and those
    they call)."""
    models = {p.stem: p.read_text() for p in (DBT / "models").rglob("*.sql")}
    macros = {m.group(1): m.group(2) for p in (DBT / "macros").rglob("*.sql") for m in MACRO.finditer(p.read_text())}
    # no model reads an outbound model (the syncs do): their names are the syncs', which models name as values
    for name in OUTBOUND:
        assert not any(f"ref('{name}')" in text for text in models.values()), f"a model reads outbound.{name}"
    called = {name: set(CALL.findall(body)) & set(macros) for name, body in macros.items()}
    literals = {name: set(LITERAL.findall(body)) for name, body in macros.items()}
    out = {}
    for model, text in models.items():
        seen, todo = set(), list(set(CALL.findall(text)) & set(macros))
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += called[name]
        out[model] = set(LITERAL.findall(text)).union(*(literals[m] for m in seen))
    return out


def _reads(model: str) -> set[str]:
    """Every model upstream of `model`, itself included. A model named in a string literal counts as read: a macro
    refs its argument (outbound_rows('int_sync_erp_time_bills', ...)), so literals are what the text can name; not
    an outbound model's name, which is a sync's (sync_name = 'erp_time_bills')."""
    models = _project()
    seen, todo = {model}, [model]
    while todo:
        for name in models[todo.pop()] & set(models) - OUTBOUND - seen:
            seen.add(name)
            todo.append(name)
    return seen


def read_syncs(model: str) -> set[str]:
    """The syncs whose results the model reads: the sync names in the SQL of each model upstream of it that reads
    the ledger, the created ids or the exceptions."""
    models = _project()
    return {sync for name in _reads(model) if models[name] & RESULTS for sync in models[name] & set(SYNCS)}


def _closure(name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for before in SYNCS[todo.pop()].after:
            if before not in seen:
                seen.add(before)
                todo.append(before)
    return seen


def test_each_sync_runs_after_the_syncs_it_names_and_those_are_listed_before_it():
    names = list(SYNCS)
    for i, sync in enumerate(SYNCS.values()):
        for before in sync.after:
            assert before in SYNCS, f"{sync.name} names an unknown sync {before}"
            assert names.index(before) < i, f"{sync.name} runs after {before}, which is listed after it"


@pytest.mark.parametrize("crm,psa", [("salesforce", "kantata"), ("hubspot", "kantata"), ("salesforce", "certinia")])
def test_after_covers_every_sync_whose_results_the_outbound_models_read(crm, psa):
    models = _project()
    assert "int_sync_created_ids" in models and "stg_ops__sync_ledger" in models  # what the check looks for exists
    missing = {}
    for name, hub_sync in SYNCS.items():
        sync = for_systems(hub_sync, crm, psa)
        if sync is None:
            continue
        read = set()
        for relation in (sync.model, sync.blocked_model):
            model = relation.split(".", 1)[1]
            if model in models:
                read |= read_syncs(model)
        if read - {name} - _closure(name):
            missing[name] = sorted(read - {name} - _closure(name))
    assert missing == {}, f"syncs that read results of syncs they do not run after: {missing}"


def test_the_check_finds_what_the_models_read():
    # the check itself: time bills read the ERP projects created in the cycle, the CRM's links what the ERP and PSA
    # syncs created and held, Dynamics' hour lines what NetSuite's time bills hold
    assert read_syncs("erp_time_bills") >= {"erp_projects"}
    assert read_syncs("crm_opportunity_links") >= {"erp_projects", "psa_projects", "d365_projects"}
    assert read_syncs("d365_hour_journal_lines") >= {"erp_time_bills", "d365_projects"}
    assert read_syncs("erp_customers") <= {"erp_customers"}


def test_syncs_side_by_side_never_share_an_apply_lock():
    # one apply per sync at a time (an advisory lock per sync): syncs applied at once must not take each other's
    names = [*SYNCS, "t_flow_bills", "t_flow_broken"]
    keys = {_lock_key(dataclasses.replace(SYNCS["erp_customers"], name=name)) for name in names}
    assert len(keys) == len(names)


# -- the scheduler, on plain functions ------------------------------------------------------------------------
def _schedule(order: list[tuple[str, str, set[int]]], concurrency: int, fail: set[int] = frozenset()):
    """Runs _run over (name, destination, waits) entries whose work sleeps a little; returns (finish order, starts
    and ends per i, the most at once)."""
    events, lock, state = {}, threading.Lock(), {"now": 0, "most": 0}

    def work(i):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
            events[i] = [time.monotonic()]
        time.sleep(0.05 if i % 2 else 0.02)
        with lock:
            state["now"] -= 1
            events[i].append(time.monotonic())
        return {"sync": order[i][0], "status": "failed" if i in fail else "succeeded"}

    todo = list(range(len(order)))
    finished = list(_run(todo, {i: order[i][2] for i in todo}, {i: order[i][1] for i in todo}, concurrency, work))
    return finished, events, state["most"]


def test_one_at_a_time_runs_in_the_declared_order():
    order = [("a", "x", set()), ("b", "y", set()), ("c", "x", {0}), ("d", "z", set())]
    finished, events, most = _schedule(order, 1)
    assert [i for i, _ in finished] == [0, 1, 2, 3]
    assert most == 1


def test_side_by_side_each_sync_starts_after_what_it_waits_for_and_one_per_destination():
    order = [("customers", "netsuite", set()), ("workspaces", "kantata", set()), ("projects", "netsuite", {0}),
             ("links", "salesforce", {1, 2}), ("roles", "kantata", {1}), ("finance", "salesforce", {0}),
             ("d365", "dynamics", set()), ("bills", "netsuite", {2})]
    finished, events, most = _schedule(order, 3, fail={0})
    assert sorted(i for i, _ in finished) == list(range(len(order)))  # a failure stops nothing, not even its readers
    assert 1 < most <= 3
    for i, (_, _, waits) in enumerate(order):
        assert all(events[j][1] <= events[i][0] for j in waits), f"{order[i][0]} started before what it waits for"
    for i in range(len(order)):
        for j in range(i):
            if order[i][1] == order[j][1]:  # one destination: never at once
                assert events[i][1] <= events[j][0] or events[j][1] <= events[i][0]
