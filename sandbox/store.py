"""The firm's SQLite database: connections, the clock, id sequences and date formats."""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: the systems share one process there (SandboxServer(processes=False))
    fcntl = None

from sandbox import schema

DB_NAME = "firm.sqlite"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce id (with its real case-safe checksum suffix)."""
    body = ""
    while n:
        n, r = divmod(n, 62)
        body = _B62[r] + body
    id15 = prefix + "8d" + body.rjust(10, "0")
    suffix = ""
    for i in range(3):
        chunk = id15[i * 5:(i + 1) * 5]
        suffix += _SUFFIX[sum(1 << j for j, c in enumerate(chunk) if c.isupper())]
    return id15 + suffix


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def sf_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def ns_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def kt_datetime(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S+00:00")


STAMP = {"salesforce": sf_datetime, "netsuite": ns_datetime, "kantata": kt_datetime}


def parse_datetime(text: str) -> dt.datetime:
    """Parse an ISO-8601-ish timestamp (Z, +0000, +00:00 or naive = UTC) into naive UTC."""
    s = text.strip().replace(" ", "T")
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    if len(s) >= 5 and s[-5] in "+-" and s[-3] != ":" and "T" in s:
        s = s[:-2] + ":" + s[-2:]
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


class FirmWriteLock:
    """The firm's write lock: re-entrant within a thread, and held across processes (an exclusive flock on
    firm.lock), so that systems served by processes of their own write one at a time as threads of one did."""

    def __init__(self, path: Path):
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._depth == 0 and fcntl is not None:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Store:
    """One firm: a SQLite file plus the clock. Thread- and process-safe: one connection per thread, writes
    serialised (FirmWriteLock), the clock read from the file (a tick in another process moves it here too)."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self.write_lock = FirmWriteLock(self.data_dir / "firm.lock")
        self._local = threading.local()

    def exists(self) -> bool:
        if not self.path.exists():
            return False
        try:
            return self.meta("generated") == "1"
        except sqlite3.Error:
            return False

    def conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=NORMAL")
            c.execute("PRAGMA cache_size=-65536")
            c.execute("PRAGMA temp_store=MEMORY")
            from sandbox import sqlfuncs
            sqlfuncs.register(c)
            self._local.conn = c
        return c

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    def init_schema(self) -> None:
        c = self.conn()
        statements = schema.ddl()
        for stmt in statements:
            if stmt.startswith("CREATE TABLE"):
                c.execute(stmt)
        self._add_missing_columns(c)  # a firm generated before a field was added gets it (null)
        for stmt in statements:
            if not stmt.startswith("CREATE TABLE"):
                c.execute(stmt)

    @staticmethod
    def _add_missing_columns(c: sqlite3.Connection) -> None:
        for system, (prefix, objects) in schema.SYSTEMS.items():
            for obj, flist in objects.items():
                have = {r[1] for r in c.execute(f'PRAGMA table_info("{prefix}_{obj}")')}
                for f in flist:
                    name, typ = f.split(":")
                    if name not in have and typ != "id":
                        sqltype = {"int": "INTEGER", "float": "REAL"}.get(typ, "TEXT" if system != "salesforce"
                                                                          or typ != "bool" else "INTEGER")
                        c.execute(f'ALTER TABLE "{prefix}_{obj}" ADD COLUMN "{name}" {sqltype}')

    # -- meta --------------------------------------------------------------------------------------
    def meta(self, key: str, default=None):
        row = self.conn().execute("SELECT value FROM sandbox_meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value) -> None:
        with self.write_lock:
            self.conn().execute("INSERT OR REPLACE INTO sandbox_meta VALUES (?, ?)", (key, str(value)))

    # -- clock ---------------------------------------------------------------------------------------
    def offset_seconds(self) -> float:
        # read each time (one indexed row): another process serving the same firm may have ticked
        return float(self.meta("clock_offset_seconds", 0) or 0)

    def now(self) -> dt.datetime:
        """The firm's clock: real UTC time plus the days `tick` has advanced it."""
        return utcnow() + dt.timedelta(seconds=self.offset_seconds())

    def advance(self, days: float) -> None:
        with self.write_lock:
            self.set_meta("clock_offset_seconds", self.offset_seconds() + days * 86400)

    def reload_clock(self) -> None:
        """Nothing to do: the clock is read from the firm each time (kept for callers)."""

    def stamp(self, system: str) -> str:
        return STAMP[system](self.now())

    # -- id sequences ---------------------------------------------------------------------------------
    def next_ids(self, name: str, count: int = 1) -> int:
        """Reserve `count` ids of sequence `name`; return the first."""
        with self.write_lock:
            c = self.conn()
            row = c.execute("SELECT value FROM sandbox_seq WHERE name=?", (name,)).fetchone()
            first = (row[0] if row else 0) + 1
            c.execute("INSERT OR REPLACE INTO sandbox_seq VALUES (?, ?)", (name, first + count - 1))
            return first

    def new_sf_id(self, obj: str) -> str:
        return sf_id(schema.SF_PREFIX[obj], self.next_ids("sf_" + obj))

    def new_ns_id(self, record_type: str) -> int:
        return self.next_ids("ns_entity" if record_type in schema.NS_ENTITY_TYPES else "ns_" + record_type)

    def new_kt_id(self, resource: str) -> int:
        return self.next_ids("kt_" + resource)

    # -- defects manifest --------------------------------------------------------------------------
    def defects(self) -> list[dict]:
        rows = self.conn().execute("SELECT kind, system, object, id, detail FROM sandbox_defects").fetchall()
        out = []
        for kind, system, obj, rid, detail in rows:
            d = json.loads(detail) if detail else {}
            out.append({"kind": kind, "rule": d.pop("rule", None), "system": system, "object": obj, "id": rid,
                        **({"detail": d} if d else {})})
        return out
