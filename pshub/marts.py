"""The marts from Python, through an analyst's own login (never the hub's):

    import pandas as pd
    from pshub import marts
    engagements = pd.read_sql_table("engagements", marts.engine("alice"), schema="marts")

The password comes from PGPASSWORD or ~/.pgpass, which libpq (under psycopg and SQLAlchemy) reads itself.
"""
from __future__ import annotations

import os

import sqlalchemy

from pshub.analysts import check_name, login_url
from pshub.settings import Settings
from pshub.warehouse import database_url


def url(login: str | None = None, settings: Settings | None = None) -> str:
    """SQLAlchemy URL of the warehouse for LOGIN (default: PSHUB_ANALYST), without a password."""
    login = login or os.environ.get("PSHUB_ANALYST")
    if not login:
        raise ValueError("name the analyst login: marts.engine('alice'), or set PSHUB_ANALYST=alice "
                         "(`pshub analysts add alice` creates it)")
    plain = login_url(database_url(settings), check_name(login))
    return plain.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)


def engine(login: str | None = None, settings: Settings | None = None, **kwargs) -> sqlalchemy.Engine:
    """A SQLAlchemy engine reading the warehouse as analyst LOGIN (kwargs go to sqlalchemy.create_engine)."""
    return sqlalchemy.create_engine(url(login, settings), **kwargs)
