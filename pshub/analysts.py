"""Analysts' own logins: each one a PostgreSQL role that can log in and holds pshub_analyst, the read-only
group role that reads schema `marts` and nothing else (dbt grants it select on every mart it builds).

The hub never stores an analyst's password: it is generated (or read from standard input), printed once, and
sent to the server only as a SCRAM-SHA-256 verifier computed on this side (libpq's PQencryptPasswordConn, as
psql's \\password does), so that not even a server log of the statement holds it.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

GROUP_ROLE = "pshub_analyst"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class AnalystError(RuntimeError):
    """A one-line answer saying what to do (or what to ask a DBA for)."""


@dataclass(frozen=True)
class AnalystLogin:
    name: str
    sessions: int
    valid_until: object | None


def generate_password() -> str:
    return secrets.token_urlsafe(18)  # 24 characters, 144 bits


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name.startswith("pg_") or name == GROUP_ROLE:
        raise AnalystError(f"{name!r} is not a usable login name: lower-case letters, digits and _, starting with "
                           f"a letter or _, at most 63 characters, not pg_* nor {GROUP_ROLE}")
    return name


def _hub_user(conn: psycopg.Connection) -> tuple[str, bool, bool]:
    return conn.execute("select current_user, rolsuper, rolcreaterole from pg_roles "
                        "where rolname = current_user").fetchone()


def _role_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone() is not None


def _dba_line(name: str, hub: str, group_missing: bool) -> str:
    create_group = f"CREATE ROLE {GROUP_ROLE} NOLOGIN; " if group_missing else ""
    return (f"{hub} may not create roles on this server: ask a DBA to run `{create_group}CREATE ROLE {name} LOGIN "
            f"PASSWORD '...' IN ROLE {GROUP_ROLE};` (or to give {hub} CREATEROLE and {GROUP_ROLE} WITH ADMIN OPTION)")


def grant_marts(conn: psycopg.Connection) -> None:
    """pshub_analyst reads every table of `marts`, today's and those the hub's user creates there later.

    dbt's `grants` config re-grants select on each mart at every build; the default privileges also cover a mart
    built without that config. Both are the hub user's own grants, on the objects it owns."""
    owned = conn.execute("select pg_has_role(nspowner, 'usage') from pg_namespace where nspname = 'marts'").fetchone()
    if not (owned and owned[0]):
        return  # not built yet, or built by another user: dbt's grants and on-run-end hook grant it as the owner
    conn.execute(f"grant usage on schema marts to {GROUP_ROLE}")
    conn.execute(f"grant select on all tables in schema marts to {GROUP_ROLE}")
    conn.execute(f"alter default privileges in schema marts grant select on tables to {GROUP_ROLE}")


def add(conn: psycopg.Connection, name: str, password: str) -> None:
    """Create login NAME holding pshub_analyst, with PASSWORD (as a SCRAM verifier). All or nothing."""
    check_name(name)
    if not password:
        raise AnalystError("the password is empty: give one on standard input, or omit --password-stdin")
    hub, is_super, can_create_roles = _hub_user(conn)
    if name == hub:
        raise AnalystError(f"{name} is the hub's own login: pick another name")
    if _role_exists(conn, name):
        raise AnalystError(f"a role named {name} already exists: pick another name, or `pshub analysts remove "
                           f"{name}` first if it is an analyst login")
    group_missing = not _role_exists(conn, GROUP_ROLE)
    if not (is_super or can_create_roles):
        raise AnalystError(_dba_line(name, hub, group_missing))
    verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256").decode()
    try:
        with conn.transaction():
            if group_missing:
                conn.execute(f"create role {GROUP_ROLE} nologin")
            conn.execute(sql.SQL("create role {} login inherit in role {}").format(
                sql.Identifier(name), sql.Identifier(GROUP_ROLE)))
            conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(name), sql.Literal(verifier)))
            # convenience only (not a safeguard): `select * from engagements` and BI tools open on marts
            conn.execute(sql.SQL("alter role {} set search_path = marts").format(sql.Identifier(name)))
            grant_marts(conn)
    except psycopg.errors.InsufficientPrivilege as exc:
        if "grant role" in str(exc) or "admin option" in str(exc).lower():
            raise AnalystError(f"{hub} may not grant {GROUP_ROLE}: ask a DBA to run `GRANT {GROUP_ROLE} TO {hub} "
                               "WITH ADMIN OPTION;`") from None
        raise AnalystError(_dba_line(name, hub, group_missing)) from None


def is_analyst(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute(
        """select 1 from pg_roles r
           join pg_auth_members m on m.member = r.oid
           join pg_roles g on g.oid = m.roleid and g.rolname = %s
           where r.rolname = %s and r.rolcanlogin""", (GROUP_ROLE, name)).fetchone() is not None


def remove(conn: psycopg.Connection, name: str) -> None:
    """Drop login NAME: its sessions end, what it owns in this database goes, and no grant to it remains."""
    check_name(name)
    if not _role_exists(conn, name):
        raise AnalystError(f"no login named {name}: `pshub analysts list` shows the analysts' logins")
    if not is_analyst(conn, name):
        raise AnalystError(f"{name} is not an analyst login (not a member of {GROUP_ROLE}): pshub removes only "
                           "the logins `pshub analysts add` makes")
    hub = _hub_user(conn)[0]
    try:
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where usename = %s", (name,))
    except psycopg.errors.InsufficientPrivilege:
        pass  # their open sessions keep running until they disconnect; the login is gone for new ones
    try:
        with conn.transaction():
            conn.execute(sql.SQL("drop owned by {}").format(sql.Identifier(name)))
    except psycopg.errors.InsufficientPrivilege:
        pass  # a hub user with CREATEROLE but not the role's privileges: drop role below says what remains
    try:
        with conn.transaction():
            conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
    except psycopg.errors.DependentObjectsStillExist as exc:
        detail = (exc.diag.message_detail or "").replace("\n", "; ")
        raise AnalystError(f"{name} still owns or holds something ({detail}): ask a DBA to run "
                           f"`DROP OWNED BY {name};` in each database named, then remove it again") from None
    except psycopg.errors.InsufficientPrivilege:
        raise AnalystError(f"{hub} may not drop {name}: ask a DBA to run `DROP ROLE {name};`") from None


def list_logins(conn: psycopg.Connection) -> list[AnalystLogin]:
    rows = conn.execute(
        """select r.rolname, (select count(*) from pg_stat_activity a where a.usename = r.rolname), r.rolvaliduntil
           from pg_roles r
           join pg_auth_members m on m.member = r.oid
           join pg_roles g on g.oid = m.roleid and g.rolname = %s
           where r.rolcanlogin
           order by r.rolname""", (GROUP_ROLE,)).fetchall()
    return [AnalystLogin(*row) for row in rows]


def login_url(hub_url: str, name: str) -> str:
    """The hub's warehouse URL with NAME as its user and no password (libpq reads PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(hub_url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{quote(name, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
