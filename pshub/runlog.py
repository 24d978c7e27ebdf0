"""Structured log lines: every record of the `pshub` and `flows` loggers carries the cycle's run id.

Lines go, as JSON, to PSHUB_HOME/logs/pshub.jsonl (one object per line: ts, level, logger, run_id,
flow_run_id, message, and any `extra=` fields), so that `grep <run id>` or a log shipper finds one cycle.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import orjson
from prefect.context import FlowRunContext

from pshub.runs import current_run_id

LOGGERS = ("pshub", "flows")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "run_id", "flow_run_id"}
_lock = threading.Lock()
_installed: dict[str, logging.Handler] = {}


def _prefect_flow_run() -> tuple[str | None, str | None]:
    """(run_id parameter, flow run id) of the Prefect flow run this thread works for, if any."""
    try:
        ctx = FlowRunContext.get()
    except Exception:  # its context unreadable: the line still gets logged
        return None, None
    if ctx is None or ctx.flow_run is None:
        return None, None
    run_id = (ctx.parameters or {}).get("run_id") if hasattr(ctx, "parameters") else None
    return (run_id if isinstance(run_id, str) else None), str(ctx.flow_run.id)


class RunIdFilter(logging.Filter):
    """Sets record.run_id (the cycle) and record.flow_run_id (Prefect) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        param_run_id, flow_run_id = _prefect_flow_run()
        if getattr(record, "run_id", None) is None:
            record.run_id = current_run_id() or param_run_id
        if getattr(record, "flow_run_id", None) is None:
            record.flow_run_id = flow_run_id
        return True


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "run_id": getattr(record, "run_id", None),
            "flow_run_id": getattr(record, "flow_run_id", None),
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def log_path(home: Path) -> Path:
    return home / "logs" / "pshub.jsonl"


def install(home: Path, level: int = logging.INFO) -> Path:
    """Attach the JSON-lines handler to the hub's loggers (once per process and file)."""
    path = log_path(home)
    with _lock:
        if str(path) not in _installed:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(JsonLinesFormatter())
            handler.addFilter(RunIdFilter())
            handler.setLevel(level)
            # The terminal keeps showing warnings and errors only: INFO lines go to the file, not the screen.
            console = logging.StreamHandler()
            console.setLevel(logging.WARNING)
            console.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d | %(levelname)-7s | %(name)s - %(message)s",
                                                   "%H:%M:%S"))
            for name in LOGGERS:
                logger = logging.getLogger(name)
                logger.addHandler(handler)
                logger.addHandler(console)
                logger.propagate = False
                if logger.level == logging.NOTSET or logger.level > level:
                    logger.setLevel(level)
            _installed[str(path)] = handler
    return path
