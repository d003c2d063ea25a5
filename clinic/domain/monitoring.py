"""Flag rules for infusion appointments: plain facts in, a list of Flag out.

Callers load the facts (infusions given, reactions, screening results,
pre-check answers) and pass ``today``; nothing here reads the clock.
NEWS2 scoring and the vital-sign alerts live in ``clinic.domain.news2``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable, Sequence

from clinic.domain.news2 import VitalSigns, vitals_alerts
from clinic.domain.policy import MonitoringPolicy, ScreeningRequirement

#: exactly the fields of the API's F object (API.md), in its order
F_FIELDS = ("kind", "severity", "code", "message", "patient_id", "appointment_id")
KINDS = ("reaction", "infection", "screening", "observation", "vitals")
#: most urgent first; sort_flags relies on this order
SEVERITIES = ("critical", "warning", "info")
#: flags that mean the dose must not start until a prescriber has reviewed
HOLD_CODES = frozenset({"fever", "low_neutrophils"})
SEVERE_GRADE = 3
DUE_SOON_DAYS = 14
#: a protocol with a neutrophil hold rule needs a fresh CBC even if it lists none
NEUTROPHIL_CBC = ScreeningRequirement("cbc", "before_each", valid_days=3, note="neutrophils")
#: answers that record a test as sent or skipped, not as a result
NOT_A_RESULT = frozenset({"", "pending", "ordered", "not_done"})
#: a screening finding before it becomes a Flag: (code, severity, message)
Problem = tuple[str, str, str]

TEST_NAMES = {
    "hbv": "HBV screen",
    "tb": "TB test",
    "jcv": "anti-JCV antibody test",
    "igg": "immunoglobulin (IgG) level",
    "cbc": "CBC",
    "creatinine": "creatinine",
    "pregnancy": "pregnancy test",
    "meningococcal_vaccine": "meningococcal vaccination",
    "iga": "IgA level",
    "lft": "liver function tests",
}

# CTCAE v5 "Infusion related reaction", paraphrased in reference/protocols.md §6
CTCAE_LABELS = {
    0: "Grade 0: no infusion reaction",
    1: "Grade 1 (mild): short-lived; no need to interrupt the infusion or treat",
    2: "Grade 2 (moderate): infusion interrupted; settles quickly with symptomatic treatment",
    3: "Grade 3 (severe): prolonged, recurs after improving, or needs hospital admission",
    4: "Grade 4 (life-threatening): urgent intervention needed",
    5: "Grade 5: death",
}


@dataclass(frozen=True)
class Flag:
    """One thing staff must know about a patient or an appointment."""

    kind: str
    severity: str
    code: str
    message: str
    patient_id: int
    appointment_id: int | None = None
    #: what tells this flag from another with the same code (part of `key`)
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown flag kind {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown flag severity {self.severity!r}")

    @property
    def key(self) -> str:
        """Return the stable identity an acknowledgement is recorded against."""
        where = self.appointment_id
        if where is None:
            where = f"patient-{self.patient_id}"
        return f"{self.code}:{where}:{self.detail}"

    @property
    def holds_dose(self) -> bool:
        """Return True when the dose must wait for a prescriber."""
        return self.code in HOLD_CODES

    def to_dict(self) -> dict[str, object]:
        """Return the API's F object."""
        return {name: getattr(self, name) for name in F_FIELDS}


@dataclass(frozen=True)
class PastInfusion:
    """An infusion actually given, with the worst CTCAE reaction grade seen."""

    appointment_id: int | None
    drug: str
    given_on: date
    reaction_grade: int | None = None
    #: a prescriber has cleared a rechallenge after a grade >= 3 reaction
    cleared_for_rechallenge: bool = False


@dataclass(frozen=True)
class ScreeningResult:
    """One recorded screening; for `cbc`, `value` is the neutrophil count (x10^9/L)."""

    test: str
    result: str
    value: float | None
    collected_on: date

    @property
    def is_result(self) -> bool:
        """Return False for a test only sent or skipped ("pending", "not_done")."""
        return self.result.strip().lower() not in NOT_A_RESULT


@dataclass(frozen=True)
class PreCheck:
    """The nurse's checks before the dose starts."""

    vitals: VitalSigns | None = None
    #: the answer to "is there an active infection?"; None when not asked yet
    active_infection: bool | None = None


@dataclass(frozen=True)
class AppointmentFacts:
    """One appointment as the flag rules see it.

    ``dose_number_of_drug`` is this appointment's place among the patient's
    doses of the drug, counting earlier doses booked but not given yet (None
    when unknown); ``previous_planned_on`` is the day of the latest such
    booked dose. They keep a future dose of a new series from looking like
    a first infusion.
    """

    appointment_id: int | None
    patient_id: int
    day: date
    drug: str
    policy: MonitoringPolicy
    observation_minutes: int = 0
    dose_number_of_drug: int | None = None
    previous_planned_on: date | None = None


def flags_for_appointment(
    appointment: AppointmentFacts,
    history: Sequence[PastInfusion],
    screenings: Sequence[ScreeningResult],
    today: date,
    precheck: PreCheck | None = None,
    neutrophils: float | None = None,
) -> list[Flag]:
    """Return the flags for one appointment, most urgent first."""
    earlier = earlier_infusions(appointment, history)
    flags = [
        *reaction_flags(appointment, earlier),
        *observation_flags(appointment),
        *screening_flags(appointment, earlier, screenings, today),
        *neutrophil_flags(appointment, screenings, neutrophils),
    ]
    if precheck is not None:
        flags += precheck_flags(appointment, precheck)
    return _unique(sort_flags(flags))


def flags_for_vitals(
    vitals: VitalSigns,
    patient_id: int,
    appointment_id: int | None,
    *,
    observation_id: int | None = None,
) -> list[Flag]:
    """Return the flags raised by an observation just recorded."""
    detail = f"obs-{observation_id}" if observation_id is not None else ""
    action = "pause and inform prescriber"
    return _vitals_flags(vitals, patient_id, appointment_id, "", action, detail)


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Return the flags critical first, keeping their order within a severity."""
    return sorted(flags, key=lambda flag: SEVERITIES.index(flag.severity))


def ctcae_label(grade: int) -> str:
    """Return the CTCAE v5 "Infusion related reaction" text for a grade 0-5."""
    if grade not in CTCAE_LABELS:
        raise ValueError(f"CTCAE grade must be 0-5, not {grade!r}")
    return CTCAE_LABELS[grade]


def screening_name(test: str) -> str:
    """Return the name staff use for a screening test code."""
    return TEST_NAMES.get(test, test)


# -- reactions and first infusions -------------------------------------------


def earlier_infusions(
    appointment: AppointmentFacts, history: Sequence[PastInfusion]
) -> list[PastInfusion]:
    """Return the infusions of the appointment's drug given before its day, oldest first."""
    drug, own_id = _drug_key(appointment.drug), appointment.appointment_id
    earlier = [
        past
        for past in history
        if _drug_key(past.drug) == drug
        and past.given_on < appointment.day
        and (own_id is None or past.appointment_id != own_id)
    ]
    return sorted(earlier, key=lambda past: past.given_on)


def last_dose_before(appointment: AppointmentFacts, earlier: Sequence[PastInfusion]) -> date | None:
    """Return the day of the latest earlier dose of the drug, given or booked."""
    days = [past.given_on for past in earlier]
    planned = appointment.previous_planned_on
    if planned is not None and planned < appointment.day:
        days.append(planned)
    return max(days, default=None)


def is_first_dose(appointment: AppointmentFacts, earlier: Sequence[PastInfusion]) -> bool:
    """Return True when no earlier dose of the drug is given or booked."""
    if last_dose_before(appointment, earlier) is not None:
        return False
    # a later dose of a series whose earlier doses are booked but not dated here
    return (appointment.dose_number_of_drug or 1) <= 1


def reaction_flags(appointment: AppointmentFacts, earlier: Sequence[PastInfusion]) -> list[Flag]:
    """Flag a first infusion (or a reset to one) and earlier reactions to the drug."""
    flags = [flag for flag in [_first_infusion_flag(appointment, earlier)] if flag]
    reacted = [past for past in earlier if _grade(past) >= 1]
    severe = [p for p in reacted if _grade(p) >= SEVERE_GRADE and not p.cleared_for_rechallenge]
    if severe:
        worst = max(severe, key=lambda past: (_grade(past), past.given_on))
        message = (
            f"Grade {_grade(worst)} infusion reaction to {appointment.drug} on {worst.given_on}: "
            "do not give again unless a prescriber clears a rechallenge."
        )
        flags.append(
            _flag(appointment, "reaction", "critical", "do_not_rechallenge", message, _ref(worst))
        )
    elif reacted:
        # a cleared grade >= 3 still calls for premedication and a slower rate
        worst = max(reacted, key=lambda past: (_grade(past), past.given_on))
        cleared = " (rechallenge cleared)" if _grade(worst) >= SEVERE_GRADE else ""
        message = (
            f"Grade {_grade(worst)} infusion reaction to {appointment.drug} on {worst.given_on}"
            f"{cleared}: premedicate and use a slower rate."
        )
        flags.append(
            _flag(appointment, "reaction", "warning", "prior_reaction", message, _ref(worst))
        )
    return flags


def _first_infusion_flag(
    appointment: AppointmentFacts, earlier: Sequence[PastInfusion]
) -> Flag | None:
    drug = appointment.drug
    last = last_dose_before(appointment, earlier)
    if last is None:
        if not is_first_dose(appointment, earlier):
            return None
        message = f"First infusion of {drug}: use the first-infusion rate and observe closely."
        return _flag(appointment, "reaction", "warning", "first_infusion", message, "first")
    reset_days = appointment.policy.first_infusion_reset_days
    gap = (appointment.day - last).days
    if reset_days is None or gap < reset_days:
        return None
    message = f"Last {drug} infusion was {gap} days ago ({last}): back to the first-infusion rate."
    return _flag(appointment, "reaction", "warning", "first_infusion", message, f"reset-{last}")


def _grade(past: PastInfusion) -> int:
    return past.reaction_grade or 0


def _ref(past: PastInfusion) -> str:
    return f"after-{past.appointment_id if past.appointment_id is not None else past.given_on}"


def _drug_key(drug: str) -> str:
    return drug.strip().casefold()


# -- observation, pre-check, neutrophils -------------------------------------


def observation_flags(appointment: AppointmentFacts) -> list[Flag]:
    """Remind staff of the post-infusion observation time."""
    minutes = appointment.observation_minutes
    if minutes <= 0:
        return []
    message = f"Observe for {minutes} min after the infusion."
    return [_flag(appointment, "observation", "info", "observation_required", message)]


def precheck_flags(appointment: AppointmentFacts, precheck: PreCheck) -> list[Flag]:
    """Flag fever, an active infection and NEWS2 alerts found at pre-check."""
    flags = []
    if precheck.active_infection:
        message = "Active infection reported at pre-check: hold and inform prescriber."
        flags.append(_flag(appointment, "infection", "critical", "fever", message, "infection"))
    if precheck.vitals is not None:
        action = "hold and inform prescriber"
        patient_id, appointment_id = appointment.patient_id, appointment.appointment_id
        flags += _vitals_flags(
            precheck.vitals, patient_id, appointment_id, " at pre-check", action, "precheck"
        )
    return flags


def _vitals_flags(
    vitals: VitalSigns,
    patient_id: int,
    appointment_id: int | None,
    when: str,
    action: str,
    detail: str,
) -> list[Flag]:
    flags = []
    for alert in vitals_alerts(vitals):
        message = f"{alert.finding}{when}: {alert.response or action}."
        where = f"{alert.detail}@{detail}" if detail else alert.detail
        flag = Flag(alert.kind, "critical", alert.code, message, patient_id, appointment_id, where)
        flags.append(flag)
    return flags


def neutrophil_flags(
    appointment: AppointmentFacts, screenings: Sequence[ScreeningResult], neutrophils: float | None
) -> list[Flag]:
    """Hold the dose when neutrophils are below the protocol's threshold."""
    threshold = appointment.policy.neutrophils_below
    if threshold is None:
        return []
    if neutrophils is None:
        neutrophils = latest_value(screenings, "cbc", appointment.day)
    if neutrophils is None or neutrophils >= threshold:
        return []
    message = (
        f"Neutrophils {neutrophils:g} ×10⁹/L, below {threshold:g}: hold and inform prescriber."
    )
    reading = f"{neutrophils:g}"
    return [_flag(appointment, "infection", "critical", "low_neutrophils", message, reading)]


# -- screenings ---------------------------------------------------------------


def requirements_for(policy: MonitoringPolicy) -> tuple[ScreeningRequirement, ...]:
    """Return the policy's screenings plus the CBC its neutrophil rule needs."""
    if policy.neutrophils_below is not None and all(req.test != "cbc" for req in policy.screenings):
        return (*policy.screenings, NEUTROPHIL_CBC)
    return policy.screenings


def screening_flags(
    appointment: AppointmentFacts,
    earlier: Sequence[PastInfusion],
    screenings: Sequence[ScreeningResult],
    today: date,
) -> list[Flag]:
    """Flag required screenings that are missing, too recent, expired or expiring soon."""
    day, first = appointment.day, is_first_dose(appointment, earlier)
    last_dose = last_dose_before(appointment, earlier)
    flags = []
    for requirement in requirements_for(appointment.policy):
        results = results_on_or_before(screenings, requirement.test, day)
        if requirement.when == "before_first":
            problem = _before_first_problem(day, requirement, results, first)
        elif results or requirement.when == "before_each":
            problem = _recurring_problem(day, requirement, results, last_dose, today)
        else:  # a periodic test never done: knowable now, however far off the day
            problem = ("screening_missing", "warning", _missing_text(requirement))
        if problem is not None:
            code, severity, message = problem
            flags.append(_flag(appointment, "screening", severity, code, message, requirement.test))
    return flags


def _before_first_problem(
    day: date, requirement: ScreeningRequirement, results: list[ScreeningResult], first: bool
) -> Problem | None:
    severity = "critical" if first else "warning"
    if not results:
        return "screening_missing", severity, _missing_text(requirement)
    if not first:
        return None
    lead = requirement.min_days_before_first
    if lead and all((day - result.collected_on).days < lead for result in results):
        latest = results[0]
        message = (
            f"{_capital(screening_name(requirement.test))} on {latest.collected_on} is only "
            f"{(day - latest.collected_on).days} days before the first dose: "
            f"needs at least {lead} days."
        )
        return "screening_missing", severity, message
    return _expired(day, requirement, results[0], "warning")


def _recurring_problem(
    day: date,
    requirement: ScreeningRequirement,
    results: list[ScreeningResult],
    last_dose: date | None,
    today: date,
) -> Problem | None:
    # a result collected after today may still count, so judge only once the window is open
    opens = _window_opens(day, requirement, last_dose)
    if opens is not None and opens > today:
        return None
    severity = "critical" if requirement.when == "before_each" else "warning"
    if not results:
        return "screening_missing", severity, _missing_text(requirement)
    latest = results[0]
    if opens is not None and requirement.valid_days is None and latest.collected_on < opens:
        message = (
            f"Latest {screening_name(requirement.test)} ({latest.collected_on}) predates "
            f"the last dose on {last_dose}: needed before each dose."
        )
        return "screening_expired", severity, message
    expired = _expired(day, requirement, latest, severity)
    if expired is not None or requirement.when != "periodic" or requirement.valid_days is None:
        return expired
    expires_on = latest.collected_on + timedelta(days=requirement.valid_days)
    days_left = (expires_on - day).days
    if days_left > DUE_SOON_DAYS:
        return None
    message = (
        f"{_capital(screening_name(requirement.test))} result ({latest.collected_on}) expires on "
        f"{expires_on}, {days_left} days after this appointment: re-test."
    )
    return "screening_due", "warning", message


def _window_opens(
    day: date, requirement: ScreeningRequirement, last_dose: date | None
) -> date | None:
    """Return the first day a result counts for `day` (None: any result counts)."""
    if requirement.valid_days is not None:
        return day - timedelta(days=requirement.valid_days)
    if requirement.when == "before_each" and last_dose is not None:
        # "before each dose" without a validity means "since the previous dose"
        return last_dose + timedelta(days=1)
    return None


def _expired(
    day: date, requirement: ScreeningRequirement, latest: ScreeningResult, severity: str
) -> Problem | None:
    age = (day - latest.collected_on).days
    if requirement.valid_days is None or age <= requirement.valid_days:
        return None
    message = (
        f"Latest {screening_name(requirement.test)} ({latest.collected_on}) is {age} days old: "
        f"valid for {requirement.valid_days} days."
    )
    return "screening_expired", severity, message


def _missing_text(requirement: ScreeningRequirement) -> str:
    valid = requirement.valid_days
    if requirement.when == "before_first":
        needed = "needed before the first dose"
    elif requirement.when == "before_each":
        within = f" within {valid} days" if valid is not None else ""
        needed = f"needed{within} before each dose"
    else:
        needed = f"needed every {valid} days" if valid else "needed during treatment"
    return f"No {screening_name(requirement.test)} on record: {needed}."


def results_on_or_before(
    screenings: Sequence[ScreeningResult], test: str, day: date
) -> list[ScreeningResult]:
    """Return the real results of `test` collected on or before `day`, newest first."""
    found = [s for s in screenings if s.test == test and s.is_result and s.collected_on <= day]
    return sorted(found, key=lambda result: result.collected_on, reverse=True)


def latest_value(screenings: Sequence[ScreeningResult], test: str, day: date) -> float | None:
    """Return the value of the newest result of `test` on or before `day` that has one."""
    for result in results_on_or_before(screenings, test, day):
        if result.value is not None:
            return result.value
    return None


# -- follow-up labs after the last dose --------------------------------------


def followup_flags(
    patient_id: int,
    last_dose_on: date | None,
    policy: MonitoringPolicy,
    screenings: Sequence[ScreeningResult],
    today: date,
) -> list[Flag]:
    """Flag follow-up labs due after the last dose (alemtuzumab: monthly for 48 months)."""
    labs = policy.followup_labs
    if labs is None or last_dose_on is None or today < last_dose_on:
        return []
    until = add_months(last_dose_on, labs.months_after_last_dose)
    if today > until:
        return []
    rhythm = "monthly" if labs.every_months == 1 else f"every {labs.every_months} months"
    flags = []
    for test in labs.tests:
        results = results_on_or_before(screenings, test, today)
        due_on = add_months(results[0].collected_on, labs.every_months) if results else None
        if due_on is not None and due_on > today:
            continue
        last = results[0].collected_on if results else None
        status = f"due since {due_on} (last {last})" if last else "none on file"
        message = f"{_capital(screening_name(test))} {status}: {rhythm} follow-up until {until}."
        detail = f"{test}@{due_on or 'none'}"
        flags.append(
            Flag("screening", "warning", "followup_labs_due", message, patient_id, None, detail)
        )
    return flags


def add_months(day: date, months: int) -> date:
    """Return the same day `months` calendar months later, clamped to the month's end."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


# -- helpers ------------------------------------------------------------------


def _flag(
    appointment: AppointmentFacts,
    kind: str,
    severity: str,
    code: str,
    message: str,
    detail: str = "",
) -> Flag:
    patient_id, appointment_id = appointment.patient_id, appointment.appointment_id
    return Flag(kind, severity, code, message, patient_id, appointment_id, detail)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unique(flags: Iterable[Flag]) -> list[Flag]:
    """Drop repeats of a key (two requirements on one test), keeping the first."""
    kept: dict[str, Flag] = {}
    for flag in flags:
        kept.setdefault(flag.key, flag)
    return list(kept.values())
