"""Flags stay right when the relevant history is older than the row-by-row lookback."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from clinic.extensions import db
from clinic.monitoring.flags import LOOKBACK, appointment_flags
from clinic.monitoring.models import Observation
from clinic.protocols.services import current_protocol, sync_catalog
from clinic.scheduling.models import Appointment
from tests.factories import make_patient, make_site


def _appointment(site, patient, protocol, start: datetime, status: str = "scheduled") -> Appointment:
    row = Appointment(patient_id=patient.id, site_id=site.id, chair_id=site.chairs[0].id, protocol_id=protocol.id,
                      start_at=start, end_at=start + timedelta(hours=1), chair_free_at=start + timedelta(hours=1),
                      infusion_minutes=60, status=status)
    db.session.add(row)
    db.session.flush()
    return row


def test_old_reaction_and_old_doses_still_count(session) -> None:
    sync_catalog()
    site = make_site(chairs=1, beds=0)
    patient = make_patient()
    ocrelizumab = current_protocol("ocrelizumab-ms")
    today = datetime(2027, 6, 1, 9, tzinfo=UTC)
    long_ago = today - LOOKBACK - timedelta(days=200)
    old = _appointment(site, patient, ocrelizumab, long_ago, status="completed")
    db.session.add(Observation(appointment_id=old.id, phase="post", recorded_at=long_ago, reaction_grade=3))
    upcoming = _appointment(site, patient, ocrelizumab, today)
    codes = {f.code for f in appointment_flags([upcoming], date(2027, 6, 1))[upcoming.id]}
    assert "do_not_rechallenge" in codes
    assert "first_infusion" not in codes  # the drug was given before, if long ago
