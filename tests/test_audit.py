"""The audit trail: automatic events, sign-ins, denials, the hash chain, append-only."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from clinic.audit.models import AuditEvent
from clinic.audit.services import audit_context, merge_events, new_event, record, verify_chain
from clinic.auth.services import create_user, hash_password, issue_token
from clinic.extensions import db
from clinic.patients.models import Patient
from clinic.protocols.services import sync_catalog
from tests import dbs
from tests.conftest import count, make_app, migrate_to_head, sign_in
from tests.factories import make_patient, make_site

PATIENT = {
    "mrn": "AUD-1", "given_name": "Lena", "family_name": "Vogel", "birth_date": "1984-03-02", "sex": "female",
    "weight_kg": 64.5, "height_cm": 168, "diagnoses": [{"code": "G35", "label": "Multiple sclerosis"}],
}


@pytest.fixture
def api(client, users):
    def call(method: str, url: str, role: str = "scheduler", **kwargs: Any):
        token = issue_token(users[role])
        return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    return call


def events(**where: Any) -> list[AuditEvent]:
    """Return the trail's events matching column values, oldest first."""
    query = sa.select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
    return list(db.session.scalars(query))


def verify(app) -> Any:
    return app.test_cli_runner().invoke(args=["audit", "verify"])


# -- automatic events ---------------------------------------------------------


def test_creating_a_patient_writes_one_create_event(api, users) -> None:
    response = api("POST", "/api/v1/patients", json=PATIENT)
    assert response.status_code == 201, response.get_json()
    patient_id = response.get_json()["id"]
    [event] = events(entity="patient")
    assert (event.action, event.entity_id, event.outcome) == ("create", str(patient_id), "success")
    assert (event.user_id, event.username, event.address) == (users["scheduler"].id, "scheduler1", "127.0.0.1")
    assert event.changes["mrn"] == "AUD-1" and event.changes["birth_date"] == "1984-03-02"
    assert event.changes["weight_kg"] == 64.5 and event.changes["id"] == patient_id
    [diagnosis] = events(entity="diagnosis")
    assert diagnosis.action == "create" and diagnosis.changes["patient_id"] == patient_id


def test_updating_records_only_the_changed_fields(api, users) -> None:
    patient_id = api("POST", "/api/v1/patients", json=PATIENT).get_json()["id"]
    changes = {"weight_kg": 70, "phone": "+49 30 1", "sex": "female"}  # sex as it was
    response = api("PATCH", f"/api/v1/patients/{patient_id}", json=changes)
    assert response.status_code == 200, response.get_json()
    [event] = events(entity="patient", action="update")
    assert event.entity_id == str(patient_id) and event.username == "scheduler1"
    assert event.changes == {"weight_kg": [64.5, 70.0], "phone": ["", "+49 30 1"]}


def test_a_series_booking_records_the_series_and_each_appointment(api, session) -> None:
    sync_catalog()
    site, patient = make_site(), make_patient()
    body = {"patient_id": patient.id, "protocol_code": "ocrelizumab-ms", "start_date": "2027-01-04",
            "site_id": site.id, "preferred_time": "10:00", "horizon_days": 400}
    response = api("POST", "/api/v1/series", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    [series] = events(entity="treatment_series")
    assert series.action == "create" and series.entity_id == str(created["id"])
    booked = events(entity="appointment", action="create")
    assert sorted(int(e.entity_id) for e in booked) == sorted(a["id"] for a in created["appointments"])
    assert all(e.changes["series_id"] == created["id"] and e.username == "scheduler1" for e in booked)
    assert all(e.changes["start_at"].endswith("+00:00") for e in booked)  # instants as ISO strings


def test_a_deleted_row_keeps_its_last_values(session) -> None:
    patient = make_patient(diagnoses=[("G35", "MS")])
    diagnosis = patient.diagnoses[0]
    session.commit()
    session.delete(diagnosis)
    session.commit()
    [event] = events(entity="diagnosis", action="delete")
    assert event.entity_id == str(diagnosis.id)
    assert event.changes["code"] == "G35" and event.changes["patient_id"] == patient.id


def test_passwords_never_enter_the_trail(session) -> None:
    user = create_user("ines", "nurse", "first secret pw")
    session.commit()
    user.password_hash = hash_password("second secret pw")
    session.commit()
    created, changed = events(entity="user_account", entity_id=str(user.id))
    assert created.changes["password_hash"] == "changed"
    assert changed.action == "update" and changed.changes == {"password_hash": "changed"}
    trail = json.dumps([e.changes for e in events()])
    assert "argon2" not in trail and "secret" not in trail


def test_the_acting_user_comes_from_the_context(session, users) -> None:
    with audit_context(users["admin"], "cli"):
        make_patient()
        session.commit()
    make_patient()
    session.commit()
    first, second = events(entity="patient")
    assert (first.user_id, first.username, first.address) == (users["admin"].id, "admin1", "cli")
    assert (second.user_id, second.username, second.address) == (None, "", "")


def test_several_flushes_of_one_transaction_fold_into_one_event(session) -> None:
    patient = make_patient(weight_kg=70.0)
    patient.weight_kg = 72.5
    session.flush()
    session.commit()
    [created] = events(entity="patient")
    assert created.action == "create" and created.changes["weight_kg"] == 72.5
    patient.phone, patient.notes = "1", "moved"
    session.flush()
    patient.phone = ""
    session.commit()
    [updated] = events(entity="patient", action="update")
    assert updated.changes == {"notes": ["", "moved"]}


def test_work_rolled_back_to_a_savepoint_leaves_no_event(session) -> None:
    kept = make_patient()
    savepoint = session.begin_nested()
    make_patient()
    savepoint.rollback()
    session.commit()
    assert [e.entity_id for e in events(entity="patient")] == [str(kept.id)]
    make_patient()
    session.rollback()
    assert len(events(entity="patient")) == 1


def test_a_value_set_on_an_expired_row_still_has_its_before(session) -> None:
    patient = make_patient(weight_kg=70.0)
    session.commit()  # expires the row
    patient.weight_kg = 75.0
    session.commit()
    [event] = events(entity="patient", action="update")
    assert event.changes == {"weight_kg": [70.0, 75.0]}


def test_merge_drops_updates_that_cancel_out() -> None:
    first = new_event("update", "appointment", 7, {"status": ["scheduled", "cancelled"]})
    second = new_event("update", "appointment", 7, {"status": ["cancelled", "scheduled"], "chair_id": [1, 2]})
    assert [e["changes"] for e in merge_events([first, second])] == [{"chair_id": [1, 2]}]


# -- sign-ins and denied access ----------------------------------------------


def test_a_sign_in_is_recorded(client, users) -> None:
    assert sign_in(client, "nurse1").status_code == 302
    [event] = events(action="sign_in")
    assert (event.user_id, event.username, event.outcome) == (users["nurse"].id, "nurse1", "success")
    assert event.entity == "user_account" and event.entity_id == str(users["nurse"].id)


def test_a_failed_sign_in_names_the_user_tried_never_the_password(client, users) -> None:
    response = sign_in(client, "nurse1", "wrong horse battery")
    assert response.status_code == 401
    sign_in(client, "nobody-here", "another guess")
    known, unknown = events(action="sign_in_failed")
    assert (known.outcome, known.username, known.user_id) == ("failure", "nurse1", None)
    assert known.entity_id == str(users["nurse"].id) and known.changes == {"username": "nurse1"}
    assert unknown.entity_id is None and unknown.changes == {"username": "nobody-here"}
    trail = json.dumps([e.changes for e in events()])
    assert "horse" not in trail and "guess" not in trail


def test_a_throttled_sign_in_is_recorded_as_denied(client, users, app) -> None:
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"]):
        assert sign_in(client, "viewer1", "wrong guess").status_code == 401
    assert sign_in(client, "viewer1").status_code == 429
    [throttled] = events(action="sign_in_failed", outcome="denied")
    assert throttled.changes["username"] == "viewer1" and throttled.changes["reason"] == "throttled"


def test_a_sign_out_is_recorded(client, users) -> None:
    assert sign_in(client, "nurse1").status_code == 302
    client.post("/logout")
    [signed_out] = events(action="sign_out")
    assert signed_out.username == "nurse1" and signed_out.entity_id == str(users["nurse"].id)


def test_a_403_is_recorded_as_denied(signed_in, users) -> None:
    client = signed_in("viewer")
    assert client.get("/admin/").status_code == 403
    [event] = events(action="denied")
    assert (event.user_id, event.username, event.outcome) == (users["viewer"].id, "viewer1", "denied")
    assert event.changes == {"method": "GET", "path": "/admin/", "status": 403}


def test_api_403_and_bad_token_401_are_recorded(api, client) -> None:
    assert api("POST", "/api/v1/patients", role="viewer", json=PATIENT).status_code == 403
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/api/v1/me").status_code == 401  # no token at all: nothing to record
    forbidden, bad_token = events(action="denied")
    assert forbidden.username == "viewer1" and forbidden.changes["status"] == 403
    assert bad_token.user_id is None and bad_token.changes["status"] == 401
    assert count(Patient) == 0


# -- the chain ----------------------------------------------------------------


def _some_events(api) -> None:
    patient_id = api("POST", "/api/v1/patients", json=PATIENT).get_json()["id"]
    api("PATCH", f"/api/v1/patients/{patient_id}", json={"weight_kg": 66})
    api("POST", "/api/v1/patients", role="viewer", json=PATIENT)


def test_the_chain_verifies(app, api) -> None:
    _some_events(api)
    rows = events()
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"ok {count(AuditEvent)} events"


def _without_append_only(session, backend: str) -> None:
    """Lift the triggers inside the test's transaction (rolled back with it)."""
    if backend == "postgresql":
        session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER tr_audit_event_append_only"))
    else:
        session.execute(sa.text("DROP TRIGGER tr_audit_event_no_update"))
        session.execute(sa.text("DROP TRIGGER tr_audit_event_no_delete"))


def test_verify_names_a_changed_row(app, api, session, backend) -> None:
    _some_events(api)
    target = events(entity="patient", action="update")[0]
    _without_append_only(session, backend)
    session.execute(sa.update(AuditEvent).where(AuditEvent.id == target.id).values(username="mallory"))
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {target.id}:" in result.output and "does not match its hash" in result.output


def test_verify_names_the_link_after_a_removed_row(app, api, session, backend) -> None:
    _some_events(api)
    first, removed, after = events()[:3]
    _without_append_only(session, backend)
    session.execute(sa.delete(AuditEvent).where(AuditEvent.id == removed.id))
    result = verify(app)
    assert result.exit_code == 1
    assert f"audit event {after.id}:" in result.output and f"event {first.id}" in result.output


def test_the_database_refuses_update_and_delete(session, users) -> None:
    record("sign_in", "user_account", users["admin"].id)
    session.commit()  # the four users and the sign-in
    assert count(AuditEvent) == 5
    for statement in ("UPDATE audit_event SET username = 'mallory'", "DELETE FROM audit_event"):
        savepoint = session.begin_nested()
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            session.execute(sa.text(statement))
        savepoint.rollback()
    assert verify_chain().ok and count(AuditEvent) == 5 and not events(username="mallory")


@pytest.mark.parametrize("backend_name", dbs.backends())
def test_migration_0003_adds_and_drops_the_triggers(backend_name: str, tmp_path: Path) -> None:
    url = dbs.database_url(backend_name, tmp_path, "audit_migration")
    app = make_app(url)
    insert = sa.text(
        "INSERT INTO audit_event (at, username, action, entity, changes, outcome, address, prev_hash, hash)"
        " VALUES (CURRENT_TIMESTAMP, '', 'x', 'y', '{}', 'success', '', '', '')"
    )
    try:
        with app.app_context():
            flask_migrate.upgrade(revision="0003")
            with db.engine.begin() as connection:
                connection.execute(insert)
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.engine.begin() as connection:
                connection.execute(sa.text("DELETE FROM audit_event"))
            flask_migrate.downgrade(revision="0002")
            with db.engine.begin() as connection:
                assert connection.execute(sa.text("DELETE FROM audit_event")).rowcount == 1
            db.engine.dispose()
    finally:
        if backend_name == "postgresql":
            dbs.drop_pg_database(url)


def _post_patient(base: str, token: str, number: int, barrier: threading.Barrier) -> int:
    body = json.dumps({**PATIENT, "mrn": f"RACE-{number}"}).encode()
    request = urllib.request.Request(f"{base}/api/v1/patients", data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    barrier.wait()
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


@pytest.mark.parametrize("backend_name", dbs.backends())
def test_concurrent_writers_keep_one_chain(backend_name: str, tmp_path: Path) -> None:
    url = dbs.database_url(backend_name, tmp_path, "audit_race")
    app = make_app(url, PROPAGATE_TEST_ERRORS=False)
    migrate_to_head(app)
    with app.app_context():
        token = issue_token(create_user("racer", "scheduler", "correct horse"))
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    clients = 12
    barrier = threading.Barrier(clients)
    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            base = f"http://127.0.0.1:{server.server_port}"
            statuses = list(pool.map(lambda n: _post_patient(base, token, n, barrier), range(clients)))
        assert statuses == [201] * clients
        with app.app_context():
            result = verify_chain()
            assert result.ok, result.problem
            assert result.events == 1 + 2 * clients  # the user, then each patient and its diagnosis
            db.session.remove()
            db.engine.dispose()
    finally:
        server.shutdown()
        server.server_close()
        if backend_name == "postgresql":
            dbs.drop_pg_database(url)
