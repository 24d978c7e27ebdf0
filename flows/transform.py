"""Prefect flow `transform`: dbt build over the landed data (seeds, models, snapshots, tests).

What changed since the last successful build is known in two places, each doing what the other cannot:
- in dbt, the change set of the time models (int_time_changes): every input's rows landed since that build's load
  watermark, one branch per input; the heavy incremental models recompute exactly the groups it names (the time
  entries, their time-bill pairs, their sums, their data-quality issues). engagement_monthly, whose inputs are also invoices, payments, expenses, milestones,
  terms and the as-of month, recomputes the engagements whose inputs differ from those it was last built from
  (int_engagement_month_inputs compares them, engagement by engagement).
- here, which nodes to build at all (`plan_build`): those downstream of a raw table with rows landed since that build,
  of the sync ledger (the syncs write it), of the as-of date (time passes) and the change set itself. This is dbt's
  `source_status:fresher+` done by load id instead of by time: freshness compares the newest `_landed_at`, and a
  landing's rows carry its transaction's start time, so a long landing that commits after a build would look older
  than that build and be skipped; nor can a time tell a finished load from one still running or failed. A load id
  above the watermark can (ops.loads). Every other node's relation already holds what a build would write again,
  and its tests passed on the same rows. dbt's state comparison (`state:modified`) would rebuild only the nodes whose
  code changed; a change to the project (models, macros, seeds, vars, the dbt version, the reporting currency), or no
  successful build on record, makes the build a full refresh instead, which also runs every test.
Because the project of a pruned build is the last good build's, that build keeps every relation in place
(BuildPlan.keeps_relations, macros/materializations.sql): tables are refilled, and the views that exist are not in it
at all (pruned_selection), only their tests.
And dbt's threads keep their warehouse connection from node to node, and a process parses the project once for the
builds it runs (pshub/dbt.py). A cycle's build is mostly nodes that each do little: what each node costs besides its
query is what these save.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import flow, task
from psycopg import sql

from connectors import catalog
from flows.landing import ensure_raw_table, raw_relations, spec_for
from pshub.dbt import PROJECT_DIR, DbtFailed, DbtResult, run_dbt
from pshub.settings import Settings, get_settings
from pshub.warehouse import connect

# Always built in an incremental cycle: what changes without a landing (the syncs write the ledger and its exceptions,
# and time passes: the as-of date) with everything downstream, and the change set (it is of this build), alone.
ALWAYS_SOURCES = ["ops.sync_ledger", "ops.sync_exceptions"]
ALWAYS_DOWNSTREAM = ["int_as_of_date"]
ALWAYS_ALONE = ["int_time_changes"]


def ensure_sources(settings: Settings | None = None) -> None:
    """Every raw table dbt reads exists, even before its first landing, so a build never trips on a gap. One look
    at the catalog says which tables or indexes are missing; only their objects are ensured (ensure_raw_table takes
    a lock and five statements an object: every cycle paid them for all of its objects, which its ingest had
    landed already)."""
    specs = [spec_for(obj) for obj in catalog.select()]
    with connect(settings) as conn:
        present = set(conn.execute(
            """select n.nspname, c.relname from pg_catalog.pg_class c
                 join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                where n.nspname = any(%s)""", (sorted({spec.schema for spec in specs}),)).fetchall())
        for spec in specs:
            # the relations ensure_raw_table makes (an index name PostgreSQL shortened only makes it ensure again)
            if any((spec.schema, name) not in present for name in raw_relations(spec)):
                ensure_raw_table(conn, spec)
        conn.commit()


# Left out of an incremental build (each cycle): what only a code change or a full reload can break. The unit
# tests (fixed input rows); the tests on the raw tables (`source:*`: their `id` is unique and not null by the
# primary key) and the reconciliations of marts with them, which read every raw row; and the staging views' key
# tests (tag raw_primary_key: the key is the raw table's primary key, renamed); the outbound models' tests that
# their int_sync_ model's tests imply (tag implied_key: each is a filter of it; models/outbound/*.yml say which test
# covers which); the tests of a view that reads every row when queried (tag every_row: marts.system_reconciliation;
# the role views of intermediate/roles, whose keys are their staging views'). The full refresh (weekly, and after an
# upgrade) and `make test` run them all.
EXCLUDED_TAGS = ["raw_primary_key", "implied_key", "every_row"]
INCREMENTAL_EXCLUDES = ["--exclude-resource-type", "unit_test",
                        "--exclude", "source:*", *(f"tag:{tag}" for tag in EXCLUDED_TAGS)]


def build_args(select: list[str] | None = None, full_refresh: bool = False) -> list[str]:
    """`dbt build` arguments: every node in a full refresh; an incremental build leaves out INCREMENTAL_EXCLUDES."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    else:
        args += INCREMENTAL_EXCLUDES
    return args


@dataclass
class BuildPlan:
    args: list[str]
    load_watermark: int                  # every load up to it had finished when the build was planned
    saves_state: bool                    # a build of every node that can have changed: it becomes the last good one
    changed_sources: list[str] | None = None  # None: every node is built
    reason: str = ""                     # what is built, when not the pruned selection
    # the project is the one the last good build built: its tables are refilled in place and its views, which stay,
    # are not created again (macros/materializations.sql; an environment variable, not a dbt var, whose change
    # would make dbt parse the whole project again)
    keeps_relations: bool = False
    project: str | None = None           # the project's fingerprint when the plan computed it (record_build keeps it)

    @property
    def scope(self) -> str:
        if self.changed_sources is None:
            return self.reason
        landed = ", ".join(self.changed_sources) or "none"
        return (f"nodes downstream of what changed since the last good build: sources with new rows ({landed}), "
                "the sync ledger and the as-of date (the views there already left as they are, their tests run)")


def state_dir(settings: Settings | None = None) -> Path:
    """<home>/dbt/state: the manifest of the last build that succeeded, its ops.dbt_builds id and the project's
    fingerprint then (build.json)."""
    return (settings or get_settings()).home_dir / "dbt" / "state"


def _project_fingerprint(settings: Settings | None = None) -> str:
    """A hash of the dbt project (dbt_project.yml and every file under dbt_project/), of the dbt version, of the
    reporting currency (every _reporting amount the incremental models keep is in it) and of the ERP routes set on
    top of the seed (PSHUB_ERP_ROUTING)."""
    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256(dbt_version.encode())
    digest.update(b"reporting currency\0" + (settings or get_settings()).reporting_currency.encode() + b"\0")
    digest.update(b"erp routing\0" + (settings or get_settings()).erp_routing.encode() + b"\0")  # a cut-over rebuilds
    files = [PROJECT_DIR / "dbt_project.yml", *sorted(p for p in (PROJECT_DIR / "dbt_project").rglob("*") if p.is_file())]
    for path in files:
        digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _last_good_build(conn, settings: Settings | None) -> dict | None:
    """The last successful build: its row in ops.dbt_builds (load watermark) and, in the state folder, its manifest
    and project fingerprint (kept with that row's id). None when either is missing or they disagree."""
    row = conn.execute("select build_id, load_watermark from ops.dbt_builds order by build_id desc limit 1").fetchone()
    state = state_dir(settings)
    try:
        kept = json.loads((state / "build.json").read_text())
        manifest = json.loads((state / "manifest.json").read_text())
        manifest["sources"], manifest["nodes"], manifest["child_map"]  # noqa: B018 - what plan_build reads
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if row is None or kept.get("build_id") != row[0]:
        return None
    return {"build_id": row[0], "load_watermark": row[1], "project": kept.get("project"), "manifest": manifest}


def changed_sources(conn, sources: list[tuple[str, str, str]], since: int) -> list[str]:
    """The dbt sources ("source.table") among `sources` [(name, schema, table)] whose raw table has rows landed
    (or marked deleted) in a load after `since`: one statement, each a BRIN-index lookup."""
    if not sources:
        return []
    query = sql.SQL(" union all ").join(
        sql.SQL("select {} where exists (select 1 from {}.{} where _load_id > %(since)s)").format(
            sql.Literal(name), sql.Identifier(schema), sql.Identifier(table))
        for name, schema, table in sources)
    return sorted(row[0] for row in conn.execute(query, {"since": since}))


# The schemas where dbt makes views (dbt_project.yml): staging, the intermediate syncs and roles, marts, outbound.
VIEW_SCHEMAS = ["staging", "intermediate", "marts", "outbound"]


def dbt_views(conn) -> set[tuple[str, str]]:
    """(schema, name) of every view in VIEW_SCHEMAS: the views dbt made that are there now."""
    return set(conn.execute("select schemaname, viewname from pg_views where schemaname = any(%s)",
                            (VIEW_SCHEMAS,)).fetchall())


def pruned_selection(manifest: dict, landed: list[str], views: set[tuple[str, str]]) -> list[str]:
    """The names to hand `dbt build --select` (with INCREMENTAL_EXCLUDES) for an incremental build, from the last
    good build's manifest: every node downstream of the sources in `landed` ("source.table"), of ALWAYS_SOURCES and
    ALWAYS_DOWNSTREAM, and ALWAYS_ALONE; less the views that exist (`views`: (schema, name) in the warehouse), whose
    tests stay. The project is the one that made those views, so a view that exists already is what a build would
    make (macros/materializations.sql leaves it as it is), yet each still cost dbt about 0.15 s of a thread (89 in
    a medium firm's day: its context, its compiled file, its statements) and a place in the graph's queue.

    Computed here, not by dbt's selectors: an exclusion of the views would take their tests with them (dbt selects a
    test whose parents are all selected, whatever --indirect-selection says), and dbt's set operators each walk the
    graph (an earlier try with intersections spent 2.4 s selecting). A model is named; its tests come with it (dbt's
    eager indirect selection: a test of any selected parent); a test is named only when none of its parents is
    (those of the views left out), and not when INCREMENTAL_EXCLUDES would drop it. dbt searches every node for each
    name: 70 names cost about 1 s more selecting than the graph expressions did, against 4 s less building (a medium
    firm's build with nothing landed, 3 pairs alternating, medians: 18.1 -> 14.7 s). dbt orders what is selected by
    the whole graph: a table downstream of a view left out still waits for the view's parents."""
    sources = {f"{s['source_name']}.{s['name']}": uid for uid, s in manifest["sources"].items()}
    nodes, children = manifest["nodes"], manifest["child_map"]
    by_name = {n["name"]: uid for uid, n in nodes.items() if n["resource_type"] in ("model", "snapshot", "seed")}
    roots = [sources[name] for name in (*ALWAYS_SOURCES, *landed) if name in sources]
    downstream = [by_name[name] for name in ALWAYS_DOWNSTREAM if name in by_name]
    reached, queue = set(downstream), roots + downstream
    while queue:
        for child in children.get(queue.pop(), []):
            if child not in reached:
                reached.add(child)
                queue.append(child)
    reached |= {by_name[name] for name in ALWAYS_ALONE if name in by_name}
    left_out = {uid for uid in reached if uid in nodes and nodes[uid]["resource_type"] == "model"
                and nodes[uid]["config"]["materialized"] == "view"
                and (nodes[uid]["schema"], nodes[uid]["alias"]) in views}
    named = {uid for uid in reached - left_out if uid in nodes and nodes[uid]["resource_type"] in
             ("model", "snapshot", "seed")}
    tests = {uid for uid in reached if uid in nodes and nodes[uid]["resource_type"] == "test"
             and not named.intersection(nodes[uid]["depends_on"]["nodes"])
             and not set(EXCLUDED_TAGS).intersection(nodes[uid]["tags"])
             and not any(parent.startswith("source.") for parent in nodes[uid]["depends_on"]["nodes"])}
    return sorted(nodes[uid]["name"] for uid in named | tests)


def plan_build(select: list[str] | None = None, full_refresh: bool = False,
               settings: Settings | None = None) -> BuildPlan:
    """The `dbt build` to run now (see the module's docstring)."""
    with connect(settings) as conn:
        watermark = conn.execute("""select coalesce(min(load_id) filter (where status = 'running') - 1, max(load_id), 0)
                                    from ops.loads""").fetchone()[0]
        if full_refresh or select:
            return BuildPlan(build_args(select, full_refresh), watermark, saves_state=not select,
                             reason=("every node (full refresh)" if not select else
                                     f"the nodes selected by --select {' '.join(select)}"
                                     + (" (full refresh)" if full_refresh else "")))
        last = _last_good_build(conn, settings)
        if last is None:
            return BuildPlan(build_args(full_refresh=True), watermark, saves_state=True,
                             reason="every node (full refresh: no successful build on record)")
        project = _project_fingerprint(settings)
        if last["project"] != project:
            return BuildPlan(
                build_args(full_refresh=True), watermark, saves_state=True,
                reason="every node (full refresh: the dbt project changed since the last successful build)")
        raw = [(f"{s['source_name']}.{s['name']}", s["schema"], s["identifier"])
               for s in last["manifest"]["sources"].values() if s["schema"].startswith("raw_")]
        landed = changed_sources(conn, raw, last["load_watermark"])
        views = dbt_views(conn)
    names = pruned_selection(last["manifest"], landed, views)
    # --no-write-json: the project is the one the last good build parsed, whose manifest is kept; dbt writing it
    # again (2 MB, twice) took a second of each cycle. The run results are still written (pshub.dbt.run_dbt).
    args = ["build", "--select", *names, *INCREMENTAL_EXCLUDES, "--no-write-json"]
    return BuildPlan(args, watermark, saves_state=True, changed_sources=landed, keeps_relations=True, project=project)


def record_build(plan: BuildPlan, result: DbtResult, settings: Settings | None = None) -> None:
    """After a build in which nothing failed: a row in ops.dbt_builds (its load watermark, which the next build
    and its tests start above) and, in the state folder, its manifest (the sources the next build checks for new
    rows) and the project's fingerprint (a change makes the next build a full refresh)."""
    if not (plan.saves_state and result.success and not result.failures):
        return
    settings = settings or get_settings()
    target, state = settings.home_dir / "dbt" / "target", state_dir(settings)
    state.mkdir(parents=True, exist_ok=True)
    manifest = state / "manifest.json" if "--no-write-json" in plan.args else target / "manifest.json"
    shutil.copyfile(manifest, state / "manifest.json.tmp")
    with connect(settings) as conn:
        build_id = conn.execute(
            """insert into ops.dbt_builds (load_watermark, full_refresh, nodes_built, tests_passed)
               values (%s, %s, %s, %s) returning build_id""",
            (plan.load_watermark, "--full-refresh" in plan.args, len(result.built), result.tests_passed)).fetchone()[0]
        kept = {"build_id": build_id, "project": plan.project or _project_fingerprint(settings)}
        (state / "build.json.tmp").write_text(json.dumps(kept))
        (state / "manifest.json.tmp").replace(state / "manifest.json")
        (state / "build.json.tmp").replace(state / "build.json")
        conn.commit()


def drop_views(settings: Settings | None = None) -> None:
    """Before a full refresh of every node: drop every view dbt made, in one session. dbt's full refresh makes each
    view and table as a new relation and drops the old one with `cascade`, in several threads at once; two such drops
    whose cascades reach the same view deadlock on its rule (pg_rewrite), a race dbt-postgres has not fixed
    (dbt-labs/dbt-core#2801, #9246). It struck here between the seed erp_routing and a staging view, both read by the
    ERP role views. With no view left, each is created once, after everything it reads, and no drop cascades. The
    views are missing while the build runs (the weekly full refresh waits for the cycle, which reads them)."""
    with connect(settings) as conn:
        views = sorted(dbt_views(conn))
        if views:
            conn.execute(sql.SQL("drop view if exists {} cascade").format(
                sql.SQL(", ").join(sql.Identifier(schema, name) for schema, name in views)))
        conn.commit()


def run_build(select: list[str] | None = None, full_refresh: bool = False, settings: Settings | None = None,
              raise_on_failure: bool = True) -> DbtResult:
    """`pshub transform` and each cycle: ensure the raw tables, plan the build, run it, and record it when it
    succeeded. After a failure target/ holds this project's manifest and run results (flows.hub reads them)."""
    ensure_sources(settings)
    plan = plan_build(select, full_refresh, settings)
    if "--full-refresh" in plan.args and not select:
        drop_views(settings)
    result = run_dbt(plan.args, settings=settings, raise_on_failure=False, keep_relations=plan.keeps_relations)
    result.scope = plan.scope
    record_build(plan, result, settings)
    if not result.success and "--no-write-json" in plan.args:
        run_dbt(["parse"], settings=settings, raise_on_failure=False)  # the manifest, to trace what the failures block
    if raise_on_failure and not result.success:
        raise DbtFailed(result.command, result.failures)
    return result


@task(name="dbt build", retries=1, retry_delay_seconds=5)
def dbt_build(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    return asdict(run_build(select, full_refresh))


@flow(name="transform")
def transform(select: list[str] | None = None, full_refresh: bool = False) -> dict:
    return dbt_build(select, full_refresh)
