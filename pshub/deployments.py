"""The deployments of prefect.yaml as Prefect runner deployments, for `pshub serve`.

prefect.yaml stays the one place where schedules and parameters are declared: `prefect deploy` reads it for a
server with a work pool, and `pshub serve` reads it here to serve the same deployments in one process.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint
from prefect.schedules import Cron, Interval, RRule


def _schedule(spec: dict):
    common = {"timezone": spec.get("timezone"), "active": spec.get("active", True)}
    if "cron" in spec:
        return Cron(spec["cron"], day_or=spec.get("day_or", True), **common)
    if "interval" in spec:
        return Interval(dt.timedelta(seconds=float(spec["interval"])), **common)
    if "rrule" in spec:
        return RRule(spec["rrule"], **common)
    raise ValueError(f"a schedule needs cron, interval or rrule: {spec}")


def load(path: Path) -> list[dict]:
    return (yaml.safe_load(Path(path).read_text()) or {}).get("deployments") or []


def runner_deployments(path: Path, only: list[str] | None = None) -> list:
    """One RunnerDeployment per deployment of the file (entrypoints relative to the file's folder)."""
    path = Path(path).resolve()
    specs = load(path)
    if only:
        unknown = set(only) - {d["name"] for d in specs}
        if unknown:
            raise KeyError(f"no deployment named {', '.join(sorted(unknown))} in {path}; "
                           f"known: {', '.join(d['name'] for d in specs)}")
        specs = [d for d in specs if d["name"] in only]
    out = []
    for spec in specs:
        file, _, func = spec["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(f"{(path.parent / file).resolve()}:{func}")
        out.append(flow.to_deployment(
            name=spec["name"], description=spec.get("description"), tags=spec.get("tags"),
            parameters=spec.get("parameters") or {},
            schedules=[_schedule(s) for s in spec.get("schedules") or []]))
    return out
