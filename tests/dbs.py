"""Test databases: SQLite always, PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def normalise(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver named."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def backends() -> list[str]:
    """Return the names of the databases this run tests against."""
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def database_url(backend: str, tmp_dir: Path, name: str = "clinic") -> str:
    """Return a fresh, empty database URL for ``backend``."""
    if backend == "sqlite":
        path = tmp_dir / f"{name}.sqlite3"
        path.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return fresh_pg_database(name)


def fresh_pg_database(suffix: str) -> str:
    """Create (or re-create) a scratch database next to TEST_DATABASE_URL's."""
    base = sa.engine.make_url(normalise(PG_URL))
    name = f"{base.database}_{suffix}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a scratch database made by ``fresh_pg_database``."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(sa.engine.make_url(normalise(PG_URL)), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
    finally:
        admin.dispose()
