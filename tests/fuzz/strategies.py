"""Hypothesis strategies for hostile input: any JSON value, and valid or near-miss values per field name.

Most bodies start from valid values for every known field (so requests get
past the validators into the services), then one or two fields are dropped or
replaced by a near miss (out of range, year 1, a huge id, a NUL byte) or by a
value of any type, and unknown keys are added. The rest mix fields freely.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from clinic.domain.policy import SCREENING_TESTS
from clinic.monitoring.forms import SYMPTOMS
from clinic.patients.models import SCREENING_RESULTS, SEXES
from clinic.scheduling.models import APPOINTMENT_STATUSES, CHAIR_KINDS

#: ids no row has: zero, negative, past 32 and 64 bits
UNKNOWN_IDS = (0, -1, 999_999, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 10**30)
#: JSON number tokens ``json.dumps`` cannot write; parsed as inf, nan or huge ints
RAW_NUMBERS = ("1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1e-400", "-0", "1E+2",
               "123456789012345678901234567890")
_RAW = "\u0000raw:"
_RAW_TOKEN = re.compile(r'"\\u0000raw:([^"\\]*)\\u0000"')
HUGE = "Ω" * 70_000
TRICKY_TEXT = (
    "", " ", "\x00", "a\x00b", "null", "true", "0", "-1", "1e309", "NaN", "inf", "-0", "0x10", "1_000", " 12 ",
    "٣", "²", "①", "99999999999999999999999", "9" * 5000, "2027-02-30", "0001-01-01", "9999-12-31", "+99999-01-01",
    "2027-01-04T09:00:00", "2027-01-04T09:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00",
    "2027-01-04T25:00", "24:00", "23:59:60", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd",
    "%s%n", "🙂" * 10, "\u202e", "中文", "Europe/Berlin", "[regimen]", "{}", "[]", HUGE,
)
EXTREME_DATES = ("0001-01-01", "0001-01-02", "9999-12-31", "9999-12-25", "1899-12-31", "2100-12-31", "1970-01-01")
EXTREME_INSTANTS = ("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00-14:00", "9999-12-31T23:59:59-14:00",
                    "9999-12-31T23:30:00+00:00", "2027-01-04T09:00:00", "2027-01-04T09:00:00+24:00")
#: field name -> the kind of id it holds
ID_FIELDS = {"patient_id": "patient", "site_id": "site", "chair_id": "chair", "preferred_chair_id": "chair",
             "appointment_id": "appointment", "series_id": "series", "closure_id": "closure", "entity_id": "patient"}
PAST_DATES = {"birth_date": (-90 * 365, -1), "measured_on": (-300, 0), "collected_on": (-300, 0), "since": (-900, 0)}
FUTURE_DATES = {"start_date", "day", "date", "target_date"}
RECENT_INSTANTS = {"recorded_at", "started_at", "ended_at", "discharged_at"}
ENUMS: dict[str, tuple[Any, ...]] = {
    "status": APPOINTMENT_STATUSES, "phase": ("pre", "during", "post"), "test": SCREENING_TESTS,
    "result": SCREENING_RESULTS, "sex": SEXES, "kind": CHAIR_KINDS, "direction": ("up", "down"),
    "timezone": ("Europe/Berlin", "europe/berlin", "America/New_York", "UTC"), "holiday_country": ("DE", "US", "de"),
    "holiday_subdivision": ("BE", "by", ""), "slot_minutes": (5, 10, 15, 20, 30, 60), "preferred_weekday": tuple(range(7)),
    "confirm": ("yes",), "open": ("y", "y", ""), "entity": ("patient", "appointment", "series", "user"),
    "next": ("/", "/patients/", "//evil.example", "https://evil.example/"), "code": ("G35", "M05.79", "c50.9"),
    "symptoms": tuple(code for code, _label in SYMPTOMS),
}
NEAR_MISSES: dict[str, tuple[Any, ...]] = {
    "timezone": ("Mars/Olympus", "", "Etc/GMT+99", "../../etc/passwd"), "holiday_country": ("XX", "D", "DEU"),
    "holiday_subdivision": ("ZZ", "B" * 20), "slot_minutes": (0, 7, -15, 10**9), "preferred_weekday": (7, -1, "mon"),
    "status": ("done", "Cancelled", ""), "phase": ("PRE", "", "during "), "direction": ("left", ""),
    "code": ("G3", "U07.1", "ZZZ", "g35.12345"), "symptoms": (["nope"], "rash", [1]),
}
#: numeric fields: (low, high) of the valid range
RANGES = {"weight_kg": (1, 400), "height_cm": (30, 250), "temperature_c": (30.0, 45.0), "heart_rate": (20, 250),
          "systolic_bp": (90, 260), "diastolic_bp": (20, 80), "respiratory_rate": (4, 60), "spo2": (50, 100),
          "reaction_grade": (0, 5), "duration_minutes": (5, 720), "horizon_days": (1, 1095), "doses": (1, 12),
          "value": (0, 20), "turnover_minutes": (0, 120), "max_starts_per_slot": (1, 50), "limit": (1, 5000),
          "administered_amount": (0.001, 100000.0), "number": (1, 20)}


@dataclass
class World:
    """The rows a fuzzed request may name: ids by kind, protocol codes, flag keys, MRNs."""

    ids: dict[str, list[int]]
    codes: list[str]
    flag_keys: list[str]
    mrns: list[str]
    rules: list[str]
    timezone: str
    today: date
    extra: dict[str, Any] = field(default_factory=dict)


def raw(token: str) -> str:
    """Return a placeholder that ``to_json`` writes as the bare token (e.g. 1e309)."""
    return f"{_RAW}{token}\u0000"


def to_json(value: Any) -> str:
    """Return JSON text, bare tokens included (json.dumps writes lone surrogates as escapes)."""
    return _RAW_TOKEN.sub(r"\1", json.dumps(value, ensure_ascii=True))


def texts(surrogates: bool = True) -> st.SearchStrategy[str]:
    alphabet = st.characters(exclude_categories=() if surrogates else ("Cs",))
    tricky = list(TRICKY_TEXT) + (["\ud800", "x\udfff"] if surrogates else [])
    return st.one_of(st.text(alphabet, max_size=30), st.sampled_from(tricky), st.text(alphabet, min_size=200, max_size=3000))


def numbers() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(), st.sampled_from(UNKNOWN_IDS), st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from([raw(token) for token in RAW_NUMBERS]))


def scalars(surrogates: bool = True) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.booleans(), numbers(), texts(surrogates), st.dates().map(date.isoformat),
                     st.sampled_from(EXTREME_DATES + EXTREME_INSTANTS))


def json_values() -> st.SearchStrategy[Any]:
    """Any JSON value: scalars of every type, nested lists and objects."""
    return st.recursive(scalars(), lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=8)


def _days(around: date, low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda days: (around + timedelta(days=days)).isoformat())


def _opening_instants(world: World) -> st.SearchStrategy[str]:
    """Quarter hours 08:00-16:45 site time on the coming days (open or not)."""
    zone = ZoneInfo(world.timezone)
    return st.builds(
        lambda days, quarter: (datetime.combine(world.today + timedelta(days=days), time(8), zone)
                               + timedelta(minutes=15 * quarter)).isoformat(),
        st.integers(1, 120), st.integers(0, 35))


def _recent_instants() -> st.SearchStrategy[str]:
    return st.integers(0, 240).map(lambda minutes: (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat())


def _ids(world: World, kind: str) -> st.SearchStrategy[int]:
    return st.sampled_from(world.ids.get(kind) or [1])


def _in_range(low: float, high: float) -> st.SearchStrategy[Any]:
    return st.floats(low, high) if isinstance(low, float) or isinstance(high, float) else st.integers(low, high)


def _pins(world: World) -> st.SearchStrategy[list[dict[str, Any]]]:
    pin = st.fixed_dictionaries({"number": st.integers(1, 20), "chair_id": _ids(world, "chair"),
                                 "start": _opening_instants(world)})
    return st.lists(pin, max_size=2)


def _mutated_rules(world: World) -> st.SearchStrategy[str]:
    """A real regimen's TOML with one number or string literal replaced."""
    def mutate(rules: str, index: int, replacement: str) -> str:
        literals = list(re.finditer(r'(?<== )("[^"\n]*"|-?\d+(\.\d+)?)', rules))
        if not literals:
            return rules
        match = literals[index % len(literals)]
        return rules[: match.start()] + replacement + rules[match.end():]

    replacement = st.one_of(st.integers().map(str), st.sampled_from(
        ['""', '"x"', "0", "-1", "1e308", "nan", "inf", "99999999999999999999", "[]", "{}", "true", '"fixed"']))
    return st.builds(mutate, st.sampled_from(world.rules or ["[regimen]\n"]), st.integers(0, 200), replacement)


def _base(name: str) -> str:
    return name.rsplit("-", 1)[-1]  # form prefixes: "diagnosis-code", "mon-opens"


def valid(name: str, world: World) -> st.SearchStrategy[Any]:
    """Return values a field called ``name`` most likely accepts."""
    base = _base(name)
    if base in ID_FIELDS:
        return _ids(world, ID_FIELDS[base])
    if base == "protocol_code" or (base == "code" and name == base and world.codes and "diagnos" not in name):
        return st.sampled_from(world.codes or ["x"])
    if base == "symptoms":
        return st.lists(st.sampled_from(ENUMS[base]), max_size=3, unique=True)
    if base in ENUMS:
        return st.sampled_from(ENUMS[base])
    if base in PAST_DATES:
        return _days(world.today, *PAST_DATES[base])
    if base in FUTURE_DATES:
        return _days(world.today, 1, 200)
    if base in RECENT_INSTANTS:
        return _recent_instants()
    if base == "start":
        return _opening_instants(world)
    if base in ("opens", "closes"):
        return st.sampled_from(["07:30", "08:00", "09:15"] if base == "opens" else ["16:00", "18:00", "19:45"])
    if base in ("preferred_time", "start_time"):
        return st.integers(0, 31).map(lambda quarter: f"{8 + quarter // 4:02d}:{15 * (quarter % 4):02d}")
    if base in RANGES:
        return _in_range(*RANGES[base])
    if base == "mrn":
        return st.one_of(st.from_regex(r"\AF-[0-9A-Z]{4,12}\Z"), st.sampled_from(world.mrns or ["M-1"]))
    if base in ("key", "flag_key"):
        return st.sampled_from(world.flag_keys or ["first_infusion:1:"])
    if base in ("appointments", "pins"):
        return _pins(world).map(lambda pins: pins if base == "appointments" else to_json(pins))
    if base == "diagnoses":
        return st.lists(st.fixed_dictionaries({"code": valid("diagnosis-code", world),
                                               "label": st.text("abcdefgh ", min_size=1, max_size=20)}), max_size=2)
    if base == "rules":
        return st.one_of(st.sampled_from(world.rules or ["[regimen]\n"]), _mutated_rules(world))
    if base == "email":
        return st.emails()
    return st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20)


def near_miss(name: str, world: World) -> st.SearchStrategy[Any]:
    """Return values just outside what a field called ``name`` accepts (plus hostile text)."""
    base = _base(name)
    misses: list[Any] = list(NEAR_MISSES.get(base, ()))
    if base in ID_FIELDS or base == "number":
        misses += UNKNOWN_IDS
    if base in RANGES:
        low, high = RANGES[base]
        misses += [low - 1, high + 1, -low, high * 10, 10**30, raw("NaN"), raw("1e309"), raw("-1e309"), "1e309"]
    if base in PAST_DATES or base in FUTURE_DATES or base in ("opens", "closes", "preferred_time", "start_time"):
        misses += EXTREME_DATES + ("2027-02-29", "2027-13-01", "20270104", "25:00", "09:60", "7:5")
    if base == "start" or base in RECENT_INSTANTS:
        misses += EXTREME_INSTANTS + ((datetime.now(UTC) + timedelta(days=3)).isoformat(),)
    if not misses:  # text: NUL bytes (PostgreSQL refuses them), blanks, 70,000 characters, bidi control
        misses = ["a\x00b", "\x00", " ", HUGE, "\u202e", "Ä" * 121]
    return st.one_of(*[st.sampled_from(misses)] * 3, st.sampled_from(TRICKY_TEXT))


@st.composite
def _body(draw: st.DrawFn, fields: list[str], valid_values: dict[str, st.SearchStrategy[Any]],
          near_misses: dict[str, st.SearchStrategy[Any]], wild: st.SearchStrategy[Any]) -> dict[str, Any]:
    """Draw a body in one of three modes: one near miss, one or two changes, or fields mixed freely."""
    mode = draw(st.sampled_from(["one near miss", "few changes", "mixed"]), label="mode")
    body: dict[str, Any] = {}
    if mode == "mixed" or not fields:
        for name in fields:
            pick = draw(st.integers(0, 3))
            if pick < 3:
                body[name] = draw((valid_values[name], near_misses[name], wild)[pick])
    else:
        changed = ({draw(st.sampled_from(fields))} if mode == "one near miss"
                   else draw(st.sets(st.sampled_from(fields), min_size=1, max_size=2)))
        for name in fields:
            if name not in changed:
                body[name] = draw(valid_values[name])
            elif mode == "one near miss":
                body[name] = draw(near_misses[name])
            elif draw(st.integers(0, 3)) > 0:  # else dropped
                body[name] = draw(st.one_of(near_misses[name], wild))
    extra_keys = st.one_of(st.text(max_size=12), st.sampled_from(sorted(ID_FIELDS) + ["id", "__proto__"]))
    body.update(draw(st.dictionaries(extra_keys, wild, max_size=2 if draw(st.integers(0, 4)) == 0 else 0)))
    return body


def body_from(fields: list[str], world: World,
              wild: st.SearchStrategy[Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Return objects with the known fields: mostly valid with one or two changed, plus unknown keys."""
    wild = wild if wild is not None else json_values()
    return _body(fields, {name: valid(name, world) for name in fields},
                 {name: near_miss(name, world) for name in fields}, wild)
