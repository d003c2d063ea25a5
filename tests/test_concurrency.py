"""Real parallel clients against a live server: no double booking, no 500s.

Runs on a file-backed SQLite database and on PostgreSQL (when configured).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from clinic.auth.services import create_user, issue_token
from clinic.extensions import db
from clinic.protocols.services import sync_catalog
from clinic.scheduling.models import Appointment
from tests import dbs
from tests.conftest import make_app, migrate_to_head
from tests.factories import make_patient, make_site

CLIENTS = 20


@pytest.fixture(scope="module", params=dbs.backends())
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A migrated database with a site, 20 patients and a token, served on 127.0.0.1."""
    url = dbs.database_url(request.param, tmp_path_factory.mktemp("race"), "race")
    app = make_app(url, PROPAGATE_TEST_ERRORS=False)
    migrate_to_head(app)
    with app.app_context():
        sync_catalog()
        site = make_site(chairs=4, beds=0, max_starts_per_slot=20)
        patients = [make_patient().id for _ in range(CLIENTS)]
        token = issue_token(create_user("racer", "scheduler", "correct horse"))
        world = {"site_id": site.id, "chair_id": site.chairs[0].id, "patients": patients, "token": token}
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {**world, "app": app, "base": f"http://127.0.0.1:{server.server_port}"}
    finally:
        server.shutdown()
        server.server_close()
        with app.app_context():
            db.engine.dispose()
        if request.param == "postgresql":
            dbs.drop_pg_database(url)


def post(live: dict[str, Any], path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        live["base"] + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {live['token']}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


def race(bodies: list[tuple[str, dict[str, Any]]], live: dict[str, Any]) -> Counter[int]:
    """Send all requests at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(bodies))

    def one(item: tuple[str, dict[str, Any]]) -> int:
        barrier.wait()
        return post(live, *item)[0]

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return Counter(pool.map(one, bodies))


def active_rows(live: dict[str, Any]) -> list[Appointment]:
    with live["app"].app_context():
        rows = list(db.session.scalars(sa.select(Appointment).where(Appointment.status.not_in(["cancelled", "no_show"]))))
        db.session.remove()
        return rows


def overlapping_pairs(rows: list[Appointment]) -> int:
    pairs = 0
    for index, first in enumerate(rows):
        for second in rows[index + 1 :]:
            same = first.chair_id == second.chair_id or first.patient_id == second.patient_id
            if same and first.start_at < second.end_at and second.start_at < first.end_at:
                pairs += 1
    return pairs


def test_twenty_bookings_of_one_chair_and_time(live: dict[str, Any]) -> None:
    bodies = [
        ("/api/v1/appointments", {"patient_id": patient, "chair_id": live["chair_id"],
                                  "start": "2027-03-09T10:00:00+01:00", "duration_minutes": 90})
        for patient in live["patients"]
    ]
    outcome = race(bodies, live)
    assert outcome == Counter({201: 1, 409: CLIENTS - 1}), outcome
    rows = [r for r in active_rows(live) if r.chair_id == live["chair_id"]]
    assert len([r for r in rows if r.start_at.isoformat().startswith("2027-03-09")]) == 1
    assert overlapping_pairs(active_rows(live)) == 0


def test_twenty_series_competing_for_the_same_slots(live: dict[str, Any]) -> None:
    base = {"protocol_code": "natalizumab-ms", "start_date": "2027-04-05", "site_id": live["site_id"],
            "preferred_time": "09:00", "doses": 4}
    status, preview = post(live, "/api/v1/series/preview", {**base, "patient_id": live["patients"][0]})
    assert status == 200 and len(preview["appointments"]) == 4
    pins = [{"number": a["number"], "chair_id": a["chair_id"], "start": a["start"]} for a in preview["appointments"]]
    bodies = [("/api/v1/series", {**base, "patient_id": patient, "appointments": pins}) for patient in live["patients"]]
    outcome = race(bodies, live)
    assert outcome == Counter({201: 1, 409: CLIENTS - 1}), outcome
    assert overlapping_pairs(active_rows(live)) == 0
