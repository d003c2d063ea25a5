"""Flag rules: each fires on its case and stays quiet just below its boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinic.domain.monitoring import (
    F_FIELDS,
    AppointmentFacts,
    Flag,
    PastInfusion,
    PreCheck,
    ScreeningResult,
    add_months,
    ctcae_label,
    flags_for_appointment,
    flags_for_vitals,
    followup_flags,
    sort_flags,
)
from clinic.domain.news2 import VitalSigns
from clinic.domain.policy import FollowupLabs, MonitoringPolicy, ScreeningRequirement

DAY = date(2027, 3, 1)
PATIENT = 7
APPOINTMENT = 100
DRUG = "rituximab"
RITUXIMAB = MonitoringPolicy(drug=DRUG, first_infusion_reset_days=364)
NO_RULES = MonitoringPolicy(drug=DRUG)


def appointment(policy: MonitoringPolicy = NO_RULES, **changes: object) -> AppointmentFacts:
    """Build the appointment under test on DAY."""
    return replace(AppointmentFacts(APPOINTMENT, PATIENT, DAY, DRUG, policy), **changes)


def given_before(
    days: int, grade: int | None = None, cleared: bool = False, drug: str = DRUG, ident: int = 1
) -> PastInfusion:
    """Build an infusion given `days` before DAY."""
    return PastInfusion(ident, drug, DAY - timedelta(days=days), grade, cleared)


def result(
    test: str, days: int, answer: str = "negative", value: float | None = None
) -> ScreeningResult:
    """Build a screening result collected `days` before DAY."""
    return ScreeningResult(test, answer, value, DAY - timedelta(days=days))


def flags(
    facts: AppointmentFacts | None = None,
    history: list[PastInfusion] | None = None,
    screenings: list[ScreeningResult] | None = None,
    today: date = DAY,
    precheck: PreCheck | None = None,
    neutrophils: float | None = None,
) -> list[Flag]:
    """Run the appointment rules; history None means a later dose with nothing on file."""
    facts = facts or appointment()
    if history is None and facts.dose_number_of_drug is None:
        # dose 2 of a series whose dose 1 is booked: no first-infusion flag in the way
        facts = replace(facts, dose_number_of_drug=2, previous_planned_on=DAY - timedelta(days=14))
    return flags_for_appointment(
        facts, history or [], screenings or [], today, precheck, neutrophils
    )


def codes(found: list[Flag]) -> list[str]:
    return [flag.code for flag in found]


def only(found: list[Flag], code: str) -> Flag:
    (flag,) = [flag for flag in found if flag.code == code]
    return flag


# -- Flag ---------------------------------------------------------------------


def test_flag_to_dict_is_exactly_the_api_f_object() -> None:
    flag = Flag("infection", "critical", "fever", "Hot.", PATIENT, APPOINTMENT, "temperature")
    assert flag.to_dict() == {
        "kind": "infection",
        "severity": "critical",
        "code": "fever",
        "message": "Hot.",
        "patient_id": PATIENT,
        "appointment_id": APPOINTMENT,
    }
    assert tuple(flag.to_dict()) == F_FIELDS


@pytest.mark.parametrize(
    ("appointment_id", "key"),
    [(APPOINTMENT, "fever:100:temperature"), (None, "fever:patient-7:temperature")],
)
def test_flag_key_is_code_appointment_detail(appointment_id: int | None, key: str) -> None:
    flag = Flag("infection", "critical", "fever", "Hot.", PATIENT, appointment_id, "temperature")
    assert flag.key == key


@pytest.mark.parametrize(("kind", "severity"), [("weather", "info"), ("vitals", "urgent")])
def test_flag_rejects_unknown_kind_or_severity(kind: str, severity: str) -> None:
    with pytest.raises(ValueError):
        Flag(kind, severity, "x", "x", PATIENT)


def test_sort_flags_puts_critical_first_and_keeps_order_within_a_severity() -> None:
    info = Flag("observation", "info", "observation_required", "a", PATIENT)
    warn_a = Flag("reaction", "warning", "first_infusion", "b", PATIENT)
    crit = Flag("infection", "critical", "fever", "c", PATIENT)
    warn_b = Flag("screening", "warning", "screening_due", "d", PATIENT)
    assert sort_flags([info, warn_a, crit, warn_b]) == [crit, warn_a, warn_b, info]


@pytest.mark.parametrize(
    ("grade", "words"),
    [
        (0, "no infusion reaction"),
        (1, "mild"),
        (2, "interrupted"),
        (3, "prolonged"),
        (4, "life-threatening"),
        (5, "death"),
    ],
)
def test_ctcae_label(grade: int, words: str) -> None:
    assert ctcae_label(grade).startswith(f"Grade {grade}")
    assert words in ctcae_label(grade)


@pytest.mark.parametrize("grade", [-1, 6])
def test_ctcae_label_rejects_unknown_grades(grade: int) -> None:
    with pytest.raises(ValueError):
        ctcae_label(grade)


# -- first_infusion -----------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "fires"),
    [
        ([], True),
        ([given_before(30, drug="infliximab")], True),
        ([given_before(-3)], True),  # given after the day: not earlier
        ([PastInfusion(APPOINTMENT, DRUG, DAY - timedelta(days=1))], True),  # itself
        ([given_before(400, drug="Rituximab ")], False),  # same drug, spelt differently
        ([given_before(14)], False),
    ],
)
def test_first_infusion_when_no_earlier_infusion_of_the_drug(
    history: list[PastInfusion], fires: bool
) -> None:
    found = flags(appointment(), history)
    assert ("first_infusion" in codes(found)) is fires
    if fires:
        flag = only(found, "first_infusion")
        assert (flag.kind, flag.severity) == ("reaction", "warning")
        assert flag.message.startswith("First infusion of rituximab")


@pytest.mark.parametrize(
    ("facts", "fires"),
    [
        (appointment(dose_number_of_drug=1), True),
        (appointment(dose_number_of_drug=2), False),  # dose 1 is booked before it
        (appointment(previous_planned_on=DAY - timedelta(days=14)), False),
        (appointment(previous_planned_on=DAY), True),  # not earlier than the day
    ],
)
def test_first_infusion_counts_earlier_booked_doses(facts: AppointmentFacts, fires: bool) -> None:
    assert ("first_infusion" in codes(flags(facts, []))) is fires


@pytest.mark.parametrize(("gap", "fires"), [(363, False), (364, True), (500, True)])
def test_rituximab_back_to_first_infusion_rate_after_52_weeks(gap: int, fires: bool) -> None:
    found = flags(appointment(RITUXIMAB), [given_before(gap)])
    assert ("first_infusion" in codes(found)) is fires
    if fires:
        assert "back to the first-infusion rate" in only(found, "first_infusion").message


def test_no_reset_without_a_policy_gap() -> None:
    assert "first_infusion" not in codes(flags(appointment(NO_RULES), [given_before(900)]))


def test_reset_counts_from_a_booked_dose_after_the_last_given_one() -> None:
    facts = appointment(RITUXIMAB, previous_planned_on=DAY - timedelta(days=14))
    assert "first_infusion" not in codes(flags(facts, [given_before(400)]))


# -- prior_reaction / do_not_rechallenge -------------------------------------


@pytest.mark.parametrize(
    ("grade", "cleared", "expected"),
    [
        (None, False, []),
        (0, False, []),
        (1, False, ["prior_reaction"]),
        (2, False, ["prior_reaction"]),
        (3, False, ["do_not_rechallenge"]),
        (4, False, ["do_not_rechallenge"]),
        (3, True, ["prior_reaction"]),  # cleared: still premedicate, slower rate
        (4, True, ["prior_reaction"]),
    ],
)
def test_reaction_grades(grade: int | None, cleared: bool, expected: list[str]) -> None:
    found = flags(appointment(), [given_before(28, grade, cleared)])
    reactions = [flag for flag in found if flag.code in ("prior_reaction", "do_not_rechallenge")]
    assert codes(reactions) == expected
    for flag in reactions:
        assert flag.kind == "reaction"
        assert flag.severity == ("critical" if flag.code == "do_not_rechallenge" else "warning")


def test_reaction_messages_tell_staff_what_to_do() -> None:
    mild = only(flags(appointment(), [given_before(28, 2)]), "prior_reaction")
    assert mild.message == (
        "Grade 2 infusion reaction to rituximab on 2027-02-01: premedicate and use a slower rate."
    )
    severe = only(flags(appointment(), [given_before(28, 3)]), "do_not_rechallenge")
    assert "do not give again" in severe.message


def test_reaction_to_another_drug_is_not_flagged() -> None:
    found = flags(appointment(), [given_before(28, 4, drug="infliximab"), given_before(14)])
    assert not {"prior_reaction", "do_not_rechallenge"} & set(codes(found))


def test_worst_uncleared_reaction_is_named() -> None:
    history = [given_before(56, 3, cleared=True, ident=1), given_before(28, 4, ident=2)]
    flag = only(flags(appointment(), history), "do_not_rechallenge")
    assert "Grade 4" in flag.message
    assert flag.key == "do_not_rechallenge:100:after-2"


# -- observation_required -----------------------------------------------------


@pytest.mark.parametrize(("minutes", "fires"), [(0, False), (1, True), (60, True)])
def test_observation_required(minutes: int, fires: bool) -> None:
    found = flags(appointment(observation_minutes=minutes))
    assert ("observation_required" in codes(found)) is fires
    if fires:
        flag = only(found, "observation_required")
        assert (flag.kind, flag.severity) == ("observation", "info")
        assert f"{minutes} min" in flag.message


# -- fever and vitals at pre-check --------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "fires"), [(37.9, False), (37.94, False), (37.95, True), (38.0, True)]
)
def test_fever_at_pre_check_from_38_degrees(temperature: float, fires: bool) -> None:
    found = flags(precheck=PreCheck(VitalSigns(temperature_c=temperature)))
    assert ("fever" in codes(found)) is fires


def test_fever_message_and_hold() -> None:
    flag = only(flags(precheck=PreCheck(VitalSigns(temperature_c=38.2))), "fever")
    assert flag.message == "Temperature 38.2 °C at pre-check: hold and inform prescriber."
    assert (flag.kind, flag.severity, flag.holds_dose) == ("infection", "critical", True)


@pytest.mark.parametrize(("answer", "fires"), [(True, True), (False, False), (None, False)])
def test_active_infection_answer(answer: bool | None, fires: bool) -> None:
    found = flags(precheck=PreCheck(active_infection=answer))
    assert ("fever" in codes(found)) is fires


def test_fever_and_infection_are_two_flags() -> None:
    found = flags(precheck=PreCheck(VitalSigns(temperature_c=38.5), active_infection=True))
    assert codes(found).count("fever") == 2


VITALS_CASES = [
    (VitalSigns(heart_rate=111, respiratory_rate=21), False),  # 2 + 2 = 4
    (VitalSigns(heart_rate=111, respiratory_rate=21, spo2=95), True),  # total 5
    (VitalSigns(spo2=91), True),  # a single 3
    (VitalSigns(spo2=92), False),  # 2
    (VitalSigns(consciousness_alert=False), True),
    (VitalSigns(on_oxygen=True, spo2=94), False),  # 2 + 1
    (VitalSigns(systolic_bp=90), True),
    (VitalSigns(systolic_bp=91, heart_rate=91), False),  # 2 + 1
    (VitalSigns(), False),
]


@pytest.mark.parametrize(("vitals", "fires"), VITALS_CASES)
def test_vitals_out_of_range_at_pre_check(vitals: VitalSigns, fires: bool) -> None:
    found = flags(precheck=PreCheck(vitals))
    assert ("vitals_out_of_range" in codes(found)) is fires


@pytest.mark.parametrize(("vitals", "fires"), VITALS_CASES)
def test_flags_for_vitals(vitals: VitalSigns, fires: bool) -> None:
    found = flags_for_vitals(vitals, PATIENT, APPOINTMENT)
    assert ("vitals_out_of_range" in codes(found)) is fires


def test_flags_for_vitals_messages_and_keys() -> None:
    found = flags_for_vitals(
        VitalSigns(temperature_c=38.0, spo2=91), PATIENT, APPOINTMENT, observation_id=5
    )
    assert codes(found) == ["fever", "vitals_out_of_range"]
    fever, vitals = found
    assert fever.message == "Temperature 38 °C: pause and inform prescriber."
    assert vitals.message == "NEWS2 3 (SpO₂ 91 % scoring 3): urgent clinical review."
    assert (vitals.kind, vitals.severity) == ("vitals", "critical")
    assert [flag.key for flag in found] == [
        "fever:100:temperature@obs-5",
        "vitals_out_of_range:100:news2@obs-5",
    ]


# -- low_neutrophils ----------------------------------------------------------

CYCLOPHOSPHAMIDE = MonitoringPolicy(drug=DRUG, neutrophils_below=1.5)


@pytest.mark.parametrize(("neutrophils", "fires"), [(1.5, False), (1.49, True), (0.4, True)])
def test_low_neutrophils(neutrophils: float, fires: bool) -> None:
    found = flags(appointment(CYCLOPHOSPHAMIDE), neutrophils=neutrophils)
    assert ("low_neutrophils" in codes(found)) is fires
    if fires:
        flag = only(found, "low_neutrophils")
        assert (flag.kind, flag.severity, flag.holds_dose) == ("infection", "critical", True)
        assert flag.message.startswith(f"Neutrophils {neutrophils:g} ×10⁹/L, below 1.5")


def test_low_neutrophils_quiet_without_a_threshold() -> None:
    assert "low_neutrophils" not in codes(flags(appointment(NO_RULES), neutrophils=0.2))


@pytest.mark.parametrize(
    ("screenings", "fires"),
    [
        ([result("cbc", 1, "done", 1.2)], True),
        ([result("cbc", 1, "done", 1.6), result("cbc", 5, "done", 1.0)], False),  # latest wins
        ([result("cbc", -1, "done", 1.0)], False),  # after the day
    ],
)
def test_neutrophils_read_from_the_latest_cbc(
    screenings: list[ScreeningResult], fires: bool
) -> None:
    found = flags(appointment(CYCLOPHOSPHAMIDE), screenings=screenings)
    assert ("low_neutrophils" in codes(found)) is fires


def test_explicit_neutrophils_win_over_the_cbc_value() -> None:
    found = flags(
        appointment(CYCLOPHOSPHAMIDE), screenings=[result("cbc", 1, "done", 1.0)], neutrophils=2.0
    )
    assert "low_neutrophils" not in codes(found)


def test_unknown_neutrophils_fall_under_a_missing_cbc() -> None:
    found = flags(appointment(CYCLOPHOSPHAMIDE))
    flag = only(found, "screening_missing")
    assert (flag.severity, flag.key) == ("critical", "screening_missing:100:cbc")
    assert "within 3 days before each dose" in flag.message
    assert "low_neutrophils" not in codes(found)


# -- screening_missing --------------------------------------------------------


def policy_needing(
    test: str, when: str, valid_days: int | None = None, lead: int = 0
) -> MonitoringPolicy:
    """Build a policy with one screening requirement."""
    requirement = ScreeningRequirement(test, when, valid_days, min_days_before_first=lead)
    return MonitoringPolicy(drug=DRUG, screenings=(requirement,))


HBV = policy_needing("hbv", "before_first")
CBC_EACH = policy_needing("cbc", "before_each", valid_days=3)
JCV = policy_needing("jcv", "periodic", valid_days=182)
MENINGOCOCCAL = policy_needing("meningococcal_vaccine", "before_first", lead=14)


@pytest.mark.parametrize(
    ("facts", "history", "screenings", "severity"),
    [
        (appointment(HBV), [], [], "critical"),  # first dose
        (appointment(HBV), [given_before(14)], [], "warning"),  # later dose, still missing
        (appointment(HBV), [], [result("hbv", 30)], None),
        (appointment(HBV), [], [result("hbv", -1)], "critical"),  # collected after the day
        (appointment(HBV), [], [result("hbv", 3, "pending")], "critical"),  # not a result yet
        (appointment(CBC_EACH), [given_before(14)], [], "critical"),
        (appointment(JCV), [given_before(14)], [], "warning"),
    ],
)
def test_screening_missing(
    facts: AppointmentFacts,
    history: list[PastInfusion],
    screenings: list[ScreeningResult],
    severity: str | None,
) -> None:
    found = [flag for flag in flags(facts, history, screenings) if flag.kind == "screening"]
    assert [(flag.code, flag.severity) for flag in found] == (
        [("screening_missing", severity)] if severity else []
    )


def test_screening_missing_message() -> None:
    flag = only(flags(appointment(HBV), []), "screening_missing")
    assert flag.message == "No HBV screen on record: needed before the first dose."


@pytest.mark.parametrize(
    ("days_before", "fires"), [(0, True), (13, True), (14, False), (60, False)]
)
def test_meningococcal_vaccine_at_least_14_days_before_the_first_dose(
    days_before: int, fires: bool
) -> None:
    vaccination = result("meningococcal_vaccine", days_before, "done")
    found = flags(appointment(MENINGOCOCCAL), [], [vaccination])
    assert ("screening_missing" in codes(found)) is fires
    if fires:
        flag = only(found, "screening_missing")
        assert flag.severity == "critical"
        assert f"only {days_before} days before the first dose" in flag.message


def test_meningococcal_lead_time_only_matters_for_the_first_dose() -> None:
    screenings = [result("meningococcal_vaccine", 5, "done")]
    assert "screening_missing" not in codes(flags(appointment(MENINGOCOCCAL), None, screenings))


def test_an_older_vaccination_covers_a_recent_booster() -> None:
    screenings = [
        result("meningococcal_vaccine", 3, "done"),
        result("meningococcal_vaccine", 30, "done"),
    ]
    assert "screening_missing" not in codes(flags(appointment(MENINGOCOCCAL), [], screenings))


@pytest.mark.parametrize(("days_ahead", "judged"), [(0, True), (3, True), (4, False), (60, False)])
def test_before_each_is_judged_only_once_a_result_could_count(
    days_ahead: int, judged: bool
) -> None:
    today = DAY - timedelta(days=days_ahead)
    found = flags(appointment(CBC_EACH), screenings=[], today=today)
    assert ("screening_missing" in codes(found)) is judged


def test_a_periodic_test_never_done_is_flagged_however_far_ahead() -> None:
    found = flags(appointment(JCV), today=DAY - timedelta(days=365))
    assert "screening_missing" in codes(found)


# -- screening_expired / screening_due ----------------------------------------


@pytest.mark.parametrize(
    ("age", "expired"), [(0, False), (180, False), (182, False), (183, True), (400, True)]
)
def test_periodic_result_expires_after_valid_days(age: int, expired: bool) -> None:
    found = flags(appointment(JCV), screenings=[result("jcv", age)])
    assert ("screening_expired" in codes(found)) is expired
    if expired:
        flag = only(found, "screening_expired")
        assert flag.severity == "warning"
        assert flag.message == (
            f"Latest anti-JCV antibody test ({DAY - timedelta(days=age)}) is {age} days old: "
            "valid for 182 days."
        )


@pytest.mark.parametrize(("age", "severity"), [(3, None), (4, "critical")])
def test_before_each_result_expiry_is_critical(age: int, severity: str | None) -> None:
    found = flags(appointment(CBC_EACH), screenings=[result("cbc", age, "done")])
    expected = [("screening_expired", severity)] if severity else []
    assert [(f.code, f.severity) for f in found if f.kind == "screening"] == expected


def test_before_first_expiry_is_checked_at_the_first_dose_only() -> None:
    hbv_a_year = policy_needing("hbv", "before_first", valid_days=365)
    old = [result("hbv", 400)]
    assert only(flags(appointment(hbv_a_year), [], old), "screening_expired").severity == "warning"
    assert "screening_expired" not in codes(flags(appointment(hbv_a_year), None, old))


@pytest.mark.parametrize(
    ("collected_days_before", "expired"), [(20, True), (14, True), (13, False), (0, False)]
)
def test_before_each_without_validity_needs_a_result_since_the_last_dose(
    collected_days_before: int, expired: bool
) -> None:
    cbc_each = policy_needing("cbc", "before_each")
    found = flags(
        appointment(cbc_each), [given_before(14)], [result("cbc", collected_days_before, "done")]
    )
    assert ("screening_expired" in codes(found)) is expired


@pytest.mark.parametrize(
    ("age", "due"),
    [(160, False), (167, False), (168, True), (182, True), (183, False)],  # 183: expired instead
)
def test_periodic_result_due_within_14_days_after_the_appointment(age: int, due: bool) -> None:
    found = flags(appointment(JCV), screenings=[result("jcv", age)])
    assert ("screening_due" in codes(found)) is due
    if due:
        flag = only(found, "screening_due")
        assert flag.severity == "warning"
        assert f"{182 - age} days after this appointment" in flag.message


def test_expiry_of_a_periodic_result_is_not_judged_before_a_retest_could_count() -> None:
    today = DAY - timedelta(days=200)
    found = flags(appointment(JCV), screenings=[result("jcv", 300)], today=today)
    assert not {"screening_expired", "screening_due"} & set(codes(found))


def test_flags_have_unique_keys_even_with_repeated_requirements() -> None:
    twice = MonitoringPolicy(
        drug=DRUG,
        screenings=(
            ScreeningRequirement("cbc", "periodic", valid_days=30),
            ScreeningRequirement("cbc", "before_each", valid_days=3),
        ),
    )
    found = flags(appointment(twice))
    assert [(f.code, f.severity) for f in found] == [("screening_missing", "critical")]


# -- followup_labs_due --------------------------------------------------------

LAST_DOSE = date(2027, 1, 10)
ALEMTUZUMAB = MonitoringPolicy(
    drug="alemtuzumab", followup_labs=FollowupLabs(("cbc", "creatinine"), 1, 48)
)


def lab(test: str, collected_on: date) -> ScreeningResult:
    return ScreeningResult(test, "done", None, collected_on)


@pytest.mark.parametrize(
    ("today", "due"),
    [(date(2027, 3, 9), []), (date(2027, 3, 10), ["cbc", "creatinine"])],
)
def test_followup_labs_due_a_month_after_the_last_result(today: date, due: list[str]) -> None:
    labs = [lab("cbc", date(2027, 2, 10)), lab("creatinine", date(2027, 2, 10))]
    found = followup_flags(PATIENT, LAST_DOSE, ALEMTUZUMAB, labs, today)
    assert [flag.key.split(":")[2].split("@")[0] for flag in found] == due
    for flag in found:
        assert (flag.kind, flag.severity, flag.appointment_id) == ("screening", "warning", None)


def test_followup_message_and_key() -> None:
    labs = [lab("cbc", date(2027, 2, 10))]
    cbc, creatinine = followup_flags(PATIENT, LAST_DOSE, ALEMTUZUMAB, labs, date(2027, 3, 12))
    assert cbc.message == (
        "CBC due since 2027-03-10 (last 2027-02-10): monthly follow-up until 2031-01-10."
    )
    assert cbc.key == "followup_labs_due:patient-7:cbc@2027-03-10"
    assert creatinine.message.startswith("Creatinine none on file")


@pytest.mark.parametrize(
    ("today", "active"),
    [
        (date(2027, 1, 9), False),  # before the last dose
        (date(2027, 1, 10), True),
        (date(2031, 1, 10), True),  # 48 months after the last dose
        (date(2031, 1, 11), False),
    ],
)
def test_followup_runs_48_months_after_the_last_dose(today: date, active: bool) -> None:
    found = followup_flags(PATIENT, LAST_DOSE, ALEMTUZUMAB, [], today)
    assert bool(found) is active


def test_followup_quiet_without_policy_or_last_dose() -> None:
    assert followup_flags(PATIENT, LAST_DOSE, NO_RULES, [], date(2027, 6, 1)) == []
    assert followup_flags(PATIENT, None, ALEMTUZUMAB, [], date(2027, 6, 1)) == []


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 12, 15), 1, date(2028, 1, 15)),
        (date(2027, 1, 10), 48, date(2031, 1, 10)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


# -- properties ---------------------------------------------------------------

infusions = st.lists(
    st.builds(
        PastInfusion,
        appointment_id=st.integers(1, 10_000),
        drug=st.sampled_from([DRUG, "infliximab"]),
        given_on=st.dates(DAY - timedelta(days=800), DAY + timedelta(days=30)),
        reaction_grade=st.none() | st.integers(0, 5),
        cleared_for_rechallenge=st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=1000, deadline=None)
@given(infusions, st.sampled_from([NO_RULES, RITUXIMAB, JCV, CYCLOPHOSPHAMIDE]))
def test_an_uncleared_severe_reaction_always_blocks_later_doses(
    history: list[PastInfusion], policy: MonitoringPolicy
) -> None:
    found = codes(flags(appointment(policy), history))
    blocked = any(
        past.drug == DRUG
        and past.given_on < DAY
        and past.appointment_id != APPOINTMENT
        and (past.reaction_grade or 0) >= 3
        and not past.cleared_for_rechallenge
        for past in history
    )
    assert ("do_not_rechallenge" in found) is blocked
    assert not ("do_not_rechallenge" in found and "prior_reaction" in found)


@settings(max_examples=1000, deadline=None)
@given(
    infusions,
    st.lists(
        st.builds(
            ScreeningResult,
            test=st.sampled_from(["hbv", "cbc", "jcv", "meningococcal_vaccine"]),
            result=st.sampled_from(["negative", "positive", "done", "pending"]),
            value=st.none() | st.floats(0, 10),
            collected_on=st.dates(DAY - timedelta(days=400), DAY + timedelta(days=5)),
        ),
        max_size=6,
    ),
    st.integers(0, 30),
    st.booleans(),
)
def test_flags_are_sorted_unique_and_api_shaped(
    history: list[PastInfusion],
    screenings: list[ScreeningResult],
    days_ahead: int,
    fever: bool,
) -> None:
    everything = MonitoringPolicy(
        drug=DRUG,
        screenings=tuple(
            requirement
            for policy in (HBV, CBC_EACH, JCV, MENINGOCOCCAL)
            for requirement in policy.screenings
        ),
        first_infusion_reset_days=364,
        neutrophils_below=1.5,
    )
    precheck = PreCheck(VitalSigns(temperature_c=38.5 if fever else 36.8), active_infection=fever)
    found = flags_for_appointment(
        appointment(everything, observation_minutes=30),
        history,
        screenings,
        DAY - timedelta(days=days_ahead),
        precheck,
    )
    assert found == sort_flags(found)
    assert len({flag.key for flag in found}) == len(found)
    assert all(tuple(flag.to_dict()) == F_FIELDS for flag in found)
    assert all(flag.patient_id == PATIENT and flag.appointment_id == APPOINTMENT for flag in found)
