"""Fixtures: an app per database, a rolled-back transaction per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import os

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import orm

from clinic import create_app
from clinic.extensions import db
from tests import dbs

# CI (CI=true) runs every Hypothesis property with a fixed seed so that a
# landing never depends on luck; on developers' machines the examples vary
# from run to run and keep finding new cases.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_COST": 64,  # parallelism 4 needs >= 8 KiB per lane
    "WTF_CSRF_ENABLED": False,
    "PATIENTS_PER_PAGE": 10,
}


def make_app(url: str, **extra: Any) -> Flask:
    """Create an app bound to ``url`` with the test settings."""
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **extra})


def migrate_to_head(app: Flask) -> None:
    """Build the schema the way production does: run every migration."""
    with app.app_context():
        flask_migrate.upgrade()


@pytest.fixture(scope="session", params=dbs.backends())
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app on a freshly migrated database (one per backend per run)."""
    tmp = tmp_path_factory.mktemp(f"db-{backend}")
    url = dbs.database_url(backend, tmp, "suite")
    application = make_app(url)
    migrate_to_head(application)
    yield application
    with application.app_context():
        db.engine.dispose()
    if backend == "postgresql":
        dbs.drop_pg_database(url)


@pytest.fixture
def session(app: Flask) -> Iterator[orm.scoped_session[orm.Session]]:
    """Run the test inside one transaction that is rolled back afterwards.

    Code under test commits to a SAVEPOINT (``create_savepoint``), so views
    that commit still leave nothing behind.
    """
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        factory = orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        scoped = orm.scoped_session(factory, scopefunc=original.registry.scopefunc)
        db.session = scoped
        try:
            yield scoped
        finally:
            scoped.remove()
            db.session = original
            outer.rollback()
            connection.close()


class RequestScopedClient(FlaskClient):
    """A test client that gives every request its own app context.

    The ``session`` fixture holds an app context for the whole test; without
    this, requests would reuse it and share ``g`` (and the signed-in user)
    across requests.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, session: orm.scoped_session[orm.Session]) -> FlaskClient:
    app.test_client_class = RequestScopedClient
    return app.test_client()


@pytest.fixture
def users(session: orm.scoped_session[orm.Session]) -> dict[str, Any]:
    """One user per role, password 'correct horse'."""
    from clinic.auth.models import ROLES
    from clinic.auth.services import create_user

    return {role: create_user(f"{role}1", role, "correct horse") for role in ROLES}


def sign_in(client: FlaskClient, username: str, password: str = "correct horse") -> Any:
    """Post the sign-in form."""
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def signed_in(client: FlaskClient, users: dict[str, Any]):
    """Return a function that signs the client in as a role's user."""

    def _sign_in(role: str = "scheduler") -> FlaskClient:
        response = sign_in(client, users[role].username)
        assert response.status_code == 302, response.data
        return client

    return _sign_in


def count(model: type) -> int:
    """Return how many rows ``model`` has."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def api_as(client: FlaskClient, users: dict[str, Any]):
    """Return a factory of API callers: ``api_as("nurse")(method, url, role=…, json=…)``."""
    from clinic.auth.services import issue_token

    def factory(default_role: str):
        def call(method: str, url: str, role: str = default_role, **kwargs: Any) -> Any:
            token = issue_token(users[role])
            return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

        return call

    return factory
