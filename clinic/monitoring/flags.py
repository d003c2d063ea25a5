"""Load the facts the flag rules need, in bulk, and compute flags.

A fixed number of queries for any number of appointments: the patients'
appointments (with drug), their observations, screenings, and the
acknowledgements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from clinic.auth.models import User
from clinic.domain.calendar import local_date
from clinic.domain.monitoring import (
    SEVERE_GRADE,
    SEVERITIES,
    AppointmentFacts,
    Flag,
    PastInfusion,
    PreCheck,
    ScreeningResult,
    flags_for_appointment,
    flags_for_vitals,
    followup_flags,
    sort_flags,
)
from clinic.domain.news2 import VitalSigns
from clinic.domain.policy import MonitoringPolicy
from clinic.domain.screening_status import ScreeningStatus, screening_statuses
from clinic.extensions import db
from clinic.monitoring.models import FlagAck, Observation
from clinic.patients.models import Screening
from clinic.protocols.models import Protocol
from clinic.scheduling.models import INACTIVE_STATUSES, Appointment, Site
from clinic.scheduling.queries import day_appointments


def rechallenge_key(past_appointment_id: int) -> str:
    """Return the key a prescriber's rechallenge clearance is stored under."""
    return f"clear-rechallenge:{past_appointment_id}"


#: how far back appointments are loaded row by row; older ones come as
#: aggregates (the latest dose per drug, and every reaction), so a page's work
#: does not grow with years of history
LOOKBACK = timedelta(days=400)
#: a drug last given longer ago than this counts as a first infusion again
#: (and bounds the summary query); reactions are remembered for ever
HISTORY = timedelta(days=5 * 365)


HISTORY_COLUMNS = (
    Appointment.id, Appointment.patient_id, Appointment.protocol_id, Appointment.site_id, Appointment.start_at,
    Appointment.end_at, Appointment.actual_start_at, Appointment.status, Appointment.observation_minutes,
)


class HistoryRow(NamedTuple):
    """The few columns of an appointment the flag rules read."""

    id: int
    patient_id: int
    protocol_id: int
    site_id: int
    start_at: datetime
    end_at: datetime
    actual_start_at: datetime | None
    status: str
    observation_minutes: int


@dataclass
class Facts:
    """Everything known about a set of patients, loaded once."""

    rows: dict[int, list[tuple[HistoryRow, str, str]]]  # patient -> (row, drug, tz), recent only
    grades: dict[int, int]
    prechecks: dict[int, Observation]
    vitals: dict[int, list[Observation]]
    screenings: dict[int, list[ScreeningResult]]
    policies: dict[int, MonitoringPolicy]
    cleared: set[int]
    older: dict[int, list[PastInfusion]]  # patient -> doses given before the lookback
    older_last: dict[tuple[int, int], date]  # (patient, protocol) -> last dose before the lookback


def _policy(policies: dict[int, MonitoringPolicy], protocol_id: int, drug: str, definition: dict) -> None:
    if protocol_id not in policies:
        policies[protocol_id] = MonitoringPolicy.from_entry({"drug": drug, **definition})


def _older_doses(ids: list[int], since: datetime, policies: dict[int, MonitoringPolicy],
                 cleared: set[int]) -> tuple[dict[int, list[PastInfusion]], dict[tuple[int, int], date]]:
    """Summarise doses given before ``since``: the latest per protocol, and every reaction."""
    given = sa.func.coalesce(Appointment.actual_start_at, Appointment.start_at)
    old = [Appointment.patient_id.in_(ids), Appointment.status == "completed", Appointment.start_at < since]
    recent_old = [*old, Appointment.start_at >= since - HISTORY]
    latest = db.session.execute(
        sa.select(Appointment.patient_id, Appointment.protocol_id, Protocol.drug, sa.func.max(given))
        .join(Protocol, Appointment.protocol_id == Protocol.id).where(*recent_old)
        .group_by(Appointment.patient_id, Appointment.protocol_id, Protocol.drug)
    ).all()
    missing = {protocol_id for _p, protocol_id, _d, _l in latest} - set(policies)
    if missing:  # a protocol given only long ago still has follow-up rules
        for protocol_id, drug, definition in db.session.execute(
            sa.select(Protocol.id, Protocol.drug, Protocol.definition).where(Protocol.id.in_(missing))
        ):
            _policy(policies, protocol_id, drug, definition)
    older: dict[int, list[PastInfusion]] = defaultdict(list)
    older_last: dict[tuple[int, int], date] = {}
    for patient_id, protocol_id, drug, last in latest:
        last_day = last.date() if isinstance(last, datetime) else date.fromisoformat(str(last)[:10])
        older[patient_id].append(PastInfusion(None, drug, last_day))
        older_last[(patient_id, protocol_id)] = last_day
    reactions = db.session.execute(
        sa.select(Appointment.id, Appointment.patient_id, Protocol.drug, given, sa.func.max(Observation.reaction_grade))
        .join(Protocol, Appointment.protocol_id == Protocol.id)
        .join(Observation, Observation.appointment_id == Appointment.id)
        .where(*old, Observation.reaction_grade >= 1)
        .group_by(Appointment.id, Appointment.patient_id, Protocol.drug, given)
    ).all()
    for appointment_id, patient_id, drug, when, grade in reactions:
        day = when.date() if isinstance(when, datetime) else date.fromisoformat(str(when)[:10])
        older[patient_id].append(PastInfusion(appointment_id, drug, day, grade, appointment_id in cleared))
    return older, older_last


def load_facts(patient_ids: Iterable[int], since: datetime) -> Facts:
    """Load the patients' appointments from ``since`` on, observations, screenings, clearances.

    A fixed number of queries; doses before ``since`` come summarised.
    """
    ids = sorted(set(patient_ids))
    tzs = {site_id: tz for site_id, tz in db.session.execute(sa.select(Site.id, Site.timezone))}
    # Plain columns, not ORM objects: hundreds of history rows per page.
    result = db.session.execute(
        sa.select(*HISTORY_COLUMNS, Protocol.drug)
        .join(Protocol, Appointment.protocol_id == Protocol.id)
        .where(Appointment.patient_id.in_(ids), Appointment.status.not_in(INACTIVE_STATUSES),
               Appointment.start_at >= since)
        .order_by(Appointment.start_at)
    ).all()
    rows: dict[int, list[tuple[HistoryRow, str, str]]] = defaultdict(list)
    for *columns, drug in result:
        row = HistoryRow(*columns)
        rows[row.patient_id].append((row, drug, tzs.get(row.site_id, "UTC")))
    policies: dict[int, MonitoringPolicy] = {}
    used = {row.protocol_id for patient_rows in rows.values() for row, _d, _t in patient_rows}
    if used:
        for protocol_id, drug, definition in db.session.execute(
            sa.select(Protocol.id, Protocol.drug, Protocol.definition).where(Protocol.id.in_(used))
        ):
            _policy(policies, protocol_id, drug, definition)
    appointment_ids = [a.id for patient_rows in rows.values() for a, _d, _t in patient_rows]
    observations = db.session.scalars(
        sa.select(Observation).where(Observation.appointment_id.in_(appointment_ids)).order_by(Observation.recorded_at)
    ).all() if appointment_ids else []
    grades: dict[int, int] = {}
    prechecks: dict[int, Observation] = {}
    vitals: dict[int, list[Observation]] = defaultdict(list)
    for observation in observations:
        if observation.reaction_grade is not None:
            grades[observation.appointment_id] = max(grades.get(observation.appointment_id, 0), observation.reaction_grade)
        if observation.phase == "pre":
            prechecks[observation.appointment_id] = observation  # the latest wins
        else:
            vitals[observation.appointment_id].append(observation)
    screenings: dict[int, list[ScreeningResult]] = defaultdict(list)
    for row in db.session.scalars(sa.select(Screening).where(Screening.patient_id.in_(ids))):
        screenings[row.patient_id].append(ScreeningResult(row.test, row.result, row.value, row.collected_on))
    cleared_keys = db.session.scalars(
        sa.select(FlagAck.flag_key).where(FlagAck.action == "cleared", FlagAck.patient_id.in_(ids))
    )
    cleared = {int(key.rsplit(":", 1)[1]) for key in cleared_keys if key.startswith("clear-rechallenge:")}
    older, older_last = _older_doses(ids, since, policies, cleared)
    return Facts(rows, grades, prechecks, vitals, screenings, policies, cleared, older, older_last)


def vital_signs(observation: Observation) -> VitalSigns:
    """Return an observation's readings for the NEWS2 rules."""
    return VitalSigns(
        temperature_c=observation.temperature_c, heart_rate=observation.heart_rate,
        systolic_bp=observation.systolic_bp, diastolic_bp=observation.diastolic_bp,
        respiratory_rate=observation.respiratory_rate, spo2=observation.spo2,
        consciousness_alert=observation.consciousness_alert is not False,
        on_oxygen=bool(observation.on_oxygen),
    )


def _history(facts: Facts, patient_id: int) -> list[PastInfusion]:
    recent = [
        PastInfusion(a.id, drug, local_date(a.actual_start_at or a.start_at, tz), facts.grades.get(a.id),
                     a.id in facts.cleared)
        for a, drug, tz in facts.rows.get(patient_id, [])
        if a.status == "completed"
    ]
    return facts.older.get(patient_id, []) + recent


def _flags_for(appointment: Appointment | HistoryRow, drug: str, tz: str, facts: Facts, today: date) -> list[Flag]:
    day = local_date(appointment.start_at, tz)
    same_drug = [
        a for a, d, _t in facts.rows.get(appointment.patient_id, [])
        if d == drug and a.start_at < appointment.start_at and a.id != appointment.id
    ]
    previous = max((local_date(a.start_at, tz) for a in same_drug), default=None)
    facts_for = AppointmentFacts(
        appointment_id=appointment.id, patient_id=appointment.patient_id, day=day, drug=drug,
        policy=facts.policies[appointment.protocol_id], observation_minutes=appointment.observation_minutes,
        dose_number_of_drug=len(same_drug) + 1, previous_planned_on=previous,
    )
    pre = facts.prechecks.get(appointment.id)
    precheck = PreCheck(vital_signs(pre), pre.active_infection) if pre is not None else None
    flags = flags_for_appointment(facts_for, _history(facts, appointment.patient_id),
                                  facts.screenings.get(appointment.patient_id, []), today, precheck)
    for observation in facts.vitals.get(appointment.id, []):
        flags += flags_for_vitals(vital_signs(observation), appointment.patient_id, appointment.id,
                                  observation_id=observation.id)
    return sort_flags(flags)


def appointment_flags(appointments: Sequence[Appointment], today: date) -> dict[int, list[Flag]]:
    """Return the flags of each appointment (by id); no protocol, no flags."""
    if not appointments:
        return {}
    facts = load_facts((a.patient_id for a in appointments), min(a.start_at for a in appointments) - LOOKBACK)
    by_id = {a.id: (drug, tz) for rows in facts.rows.values() for a, drug, tz in rows}
    flags: dict[int, list[Flag]] = {}
    for appointment in appointments:
        if appointment.id in by_id:
            drug, tz = by_id[appointment.id]
            flags[appointment.id] = _flags_for(appointment, drug, tz, facts, today)
        else:
            flags[appointment.id] = []
    return flags


def patient_flags(patient_id: int, today: date, now: datetime) -> list[Flag]:
    """Return a patient's active flags: upcoming appointments' and follow-up labs."""
    facts = load_facts([patient_id], now - LOOKBACK)
    flags: list[Flag] = []
    for appointment, drug, tz in facts.rows.get(patient_id, []):
        if appointment.end_at >= now and appointment.status not in ("completed",):
            flags += _flags_for(appointment, drug, tz, facts, today)
    given = [(a, tz) for a, _d, tz in facts.rows.get(patient_id, []) if a.status == "completed"]
    for protocol_id, policy in facts.policies.items():
        of_protocol = [local_date(a.actual_start_at or a.start_at, tz) for a, tz in given if a.protocol_id == protocol_id]
        older = facts.older_last.get((patient_id, protocol_id))
        of_protocol += [older] if older else []
        flags += followup_flags(patient_id, max(of_protocol, default=None), policy,
                                facts.screenings.get(patient_id, []), today)
    return sort_flags(flags)


def acknowledgements(keys: Iterable[str]) -> dict[str, FlagAck]:
    """Return who acknowledged which of these flag keys."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = db.session.scalars(sa.select(FlagAck).where(FlagAck.flag_key.in_(wanted), FlagAck.action == "acknowledged"))
    return {row.flag_key: row for row in rows}


def flag_json(flag: Flag, ack: FlagAck | None = None) -> dict[str, Any]:
    """Return the API's F object plus its key and acknowledgement."""
    body: dict[str, Any] = flag.to_dict()
    body["key"] = flag.key
    body["acknowledged"] = (
        {"by": ack.acknowledged_by_id, "at": ack.acknowledged_at.isoformat()} if ack is not None else None
    )
    return body


# -- pages: the day's worklist, a patient's reactions, who acknowledged ------
#: severities that count as "open" in the nav until someone acknowledges them
OPEN_SEVERITIES = ("critical", "warning")


@dataclass(frozen=True)
class FlagRow:
    """A flag as a page shows it: with its appointment and who acknowledged it."""

    flag: Flag
    ack: FlagAck | None = None
    acknowledged_by: str = ""
    appointment: Appointment | None = None

    @property
    def is_open(self) -> bool:
        """Return True for a critical or warning flag nobody has acknowledged."""
        return self.ack is None and self.flag.severity in OPEN_SEVERITIES


def site_today(site: Site | None, now: datetime) -> date:
    """Return the local date at the site (in UTC when there is no site)."""
    return now.astimezone(ZoneInfo(site.timezone if site else "UTC")).date()


def user_names(user_ids: Iterable[int]) -> dict[int, str]:
    """Return the display names of these users (one query)."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    rows = db.session.execute(sa.select(User.id, User.full_name, User.username).where(User.id.in_(wanted)))
    return {user_id: full_name or username for user_id, full_name, username in rows}


def flag_rows(flags: Iterable[Flag], appointments: dict[int, Appointment] | None = None) -> list[FlagRow]:
    """Return the flags with their acknowledgements and appointments (two queries)."""
    flags = list(flags)
    acks = acknowledgements(flag.key for flag in flags)
    names = user_names(ack.acknowledged_by_id for ack in acks.values())
    appointments = appointments or {}
    rows = []
    for flag in flags:
        ack = acks.get(flag.key)
        where = appointments.get(flag.appointment_id) if flag.appointment_id is not None else None
        rows.append(FlagRow(flag, ack, names.get(ack.acknowledged_by_id, "") if ack else "", where))
    return rows


def day_worklist(site: Site, day: date, today: date) -> list[FlagRow]:
    """Return the flags of the site's appointments on the local day, by severity then time."""
    appointments = [a for a in day_appointments(site, day) if a.status not in INACTIVE_STATUSES]
    if not appointments:
        return []
    flags = appointment_flags(appointments, today)
    rows = flag_rows((f for a in appointments for f in flags.get(a.id, [])), {a.id: a for a in appointments})
    return sorted(rows, key=lambda row: (SEVERITIES.index(row.flag.severity), row.appointment.start_at,
                                         row.appointment.id))  # type: ignore[union-attr]


def open_flag_total(rows: Iterable[FlagRow]) -> int:
    """Return how many of the rows are open critical or warning flags."""
    return sum(1 for row in rows if row.is_open)


@dataclass(frozen=True)
class Reaction:
    """An infusion reaction (grade >= 1) and any prescriber's rechallenge clearance."""

    appointment: Appointment
    drug: str
    grade: int
    clearance: FlagAck | None = None
    cleared_by: str = ""

    @property
    def severe(self) -> bool:
        """Return True for grade 3 or worse: no rechallenge without a clearance."""
        return self.grade >= SEVERE_GRADE


def patient_reactions(patient_id: int) -> list[Reaction]:
    """Return the patient's appointments with a reaction grade >= 1, newest first (three queries)."""
    worst = (
        sa.select(Observation.appointment_id, sa.func.max(Observation.reaction_grade).label("grade"))
        .where(Observation.reaction_grade >= 1)
        .group_by(Observation.appointment_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Appointment, Protocol.drug, worst.c.grade)
        .join(worst, worst.c.appointment_id == Appointment.id)
        .outerjoin(Protocol, Appointment.protocol_id == Protocol.id)
        .where(Appointment.patient_id == patient_id)
        .order_by(Appointment.start_at.desc())
    ).all()
    clearances = {
        ack.appointment_id: ack
        for ack in db.session.scalars(
            sa.select(FlagAck).where(FlagAck.patient_id == patient_id, FlagAck.action == "cleared")
        )
    }
    names = user_names(ack.acknowledged_by_id for ack in clearances.values())
    reactions = []
    for appointment, drug, grade in rows:
        clearance = clearances.get(appointment.id)
        cleared_by = names.get(clearance.acknowledged_by_id, "") if clearance else ""
        reactions.append(Reaction(appointment, drug or "unknown drug", int(grade), clearance, cleared_by))
    return reactions


def screening_overview(
    protocols: Iterable[Protocol], appointments: Iterable[Appointment], screenings: Iterable[Screening],
    today: date, tz: str,
) -> list[ScreeningStatus]:
    """Return the standing of every screening these protocols need (no queries).

    ``appointments`` are the patient's, with their protocol loaded; the completed
    ones date each drug's last dose (a test needed before the first dose stops
    mattering once the drug is given).
    """
    policies = [(p.name, MonitoringPolicy.from_entry(p.definition)) for p in {p.id: p for p in protocols}.values()]
    last_doses: dict[str, date] = {}
    for appointment in appointments:
        if appointment.protocol is None or appointment.status != "completed":
            continue
        drug = appointment.protocol.drug.strip().casefold()
        given = local_date(appointment.actual_start_at or appointment.start_at, tz)
        last_doses[drug] = max(given, last_doses.get(drug, given))
    results = [ScreeningResult(s.test, s.result, s.value, s.collected_on) for s in screenings]
    return screening_statuses(policies, results, today, last_doses)


def proposed_flags(
    patient_id: int, protocol: Protocol, doses: Sequence[tuple[int, datetime, datetime, int]],
    site_id: int, tz: str, today: date,
) -> dict[int, list[Flag]]:
    """Return the flags each dose of a previewed series would have, by dose number.

    ``doses`` are (number, start, end, observation minutes). The proposed
    doses count as booked, so only the first is a first infusion.
    """
    if not doses:
        return {}
    facts = load_facts([patient_id], min(d[1] for d in doses) - LOOKBACK)
    _policy(facts.policies, protocol.id, protocol.drug, protocol.definition)
    rows = [HistoryRow(-number, patient_id, protocol.id, site_id, start, end, None, "scheduled", minutes)
            for number, start, end, minutes in doses]
    facts.rows[patient_id] = sorted(facts.rows.get(patient_id, []) + [(r, protocol.drug, tz) for r in rows],
                                    key=lambda item: item[0].start_at)
    result = {}
    for row in rows:
        flags = _flags_for(row, protocol.drug, tz, facts, today)
        result[-row.id] = [replace(f, appointment_id=None) for f in flags]
    return result
