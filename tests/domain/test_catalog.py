"""The shipped catalog: every §10 code, well formed, with its required screenings."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clinic.domain.policy import SCREENING_TESTS, MonitoringPolicy
from clinic.domain.regimens import describe_regimen, load_catalog, parse_regimen

ENTRIES = load_catalog()
BY_CODE = {entry["code"]: entry for entry in ENTRIES}

#: protocols.md §10, "Catalog codes"
CODES = {
    "natalizumab-ms", "ocrelizumab-ms", "alemtuzumab-ms", "ublituximab-ms",
    "infliximab-ra", "rituximab-ra", "abatacept-ra", "tocilizumab-ra",
    "rituximab-aav-induction", "rituximab-aav-maintenance", "cyclophosphamide-aav",
    "ivig-dm", "belimumab-sle", "anifrolumab-sle", "inebilizumab-nmosd",
    "efgartigimod-mg", "eculizumab-mg", "ravulizumab-mg", "ivig-cidp",
}  # fmt: skip

DISEASE_ICD10 = {
    "Multiple sclerosis": {"G35"},
    "Rheumatoid arthritis": {"M05", "M06"},
    "ANCA vasculitis": {"M31.3", "M31.7"},
    "Dermatomyositis": {"M33"},
    "Systemic lupus erythematosus": {"M32"},
    "NMOSD": {"G36.0"},
    "Myasthenia gravis": {"G70.0"},
    "CIDP": {"G61.8"},
}
TEXT_FIELDS = (
    "code", "name", "drug", "brand", "disease", "premedication", "observation_text",
    "reaction_notes", "infection_notes", "notes",
)  # fmt: skip


def test_all_19_codes_once() -> None:
    codes = [entry["code"] for entry in ENTRIES]
    assert len(codes) == len(set(codes)) == 19
    assert set(codes) == CODES


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["code"])
def test_entry_is_well_formed(entry: dict[str, Any]) -> None:
    for field in TEXT_FIELDS:
        assert isinstance(entry[field], str) and entry[field].strip(), field
    assert entry["drug"] == entry["drug"].lower()
    assert entry["disease"] in DISEASE_ICD10
    icd10 = {item["icd10"] for item in entry["indications"]}
    assert icd10 and icd10 <= DISEASE_ICD10[entry["disease"]]
    assert all(item["label"].strip() for item in entry["indications"])
    source_id = re.compile(r"S([1-9]|[1-7]\d|8[0-2])")  # the reference lists S1..S82
    assert entry["sources"] and all(source_id.fullmatch(s) for s in entry["sources"])
    # Every [Sn] cited in the texts is listed in sources.
    cited = set(re.findall(r"\[(S\d+)\]", " ".join(entry[f] for f in TEXT_FIELDS)))
    assert cited <= set(entry["sources"])


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["code"])
def test_notes_name_the_unsourced_facts_and_the_clinic_policy(entry: dict[str, Any]) -> None:
    assert "(U)" in entry["notes"]
    assert "§10" in entry["notes"]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["code"])
def test_regimen_parses_and_reads_in_words(entry: dict[str, Any]) -> None:
    regimen = parse_regimen(entry)
    assert regimen.code == entry["code"]
    assert describe_regimen(regimen)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["code"])
def test_monitoring_policy_parses(entry: dict[str, Any]) -> None:
    policy = MonitoringPolicy.from_entry(entry)
    assert policy.drug == entry["drug"]
    assert len(policy.screenings) == len(entry.get("screenings", []))
    for screening in policy.screenings:
        assert screening.test in SCREENING_TESTS
        assert screening.note  # staff see why the test is needed
        if screening.when != "before_first":
            assert screening.valid_days is not None


def test_one_drug_name_per_drug() -> None:
    drugs = {code: entry["drug"] for code, entry in BY_CODE.items()}
    assert {drugs[c] for c in CODES if c.startswith("rituximab")} == {"rituximab"}
    assert drugs["ivig-dm"] == drugs["ivig-cidp"]


REQUIRED = [
    # (code, test, when, valid_days, min_days_before_first)
    ("natalizumab-ms", "jcv", "periodic", 182, 0),
    ("ocrelizumab-ms", "hbv", "before_first", None, 0),
    ("ublituximab-ms", "hbv", "before_first", None, 0),
    ("ublituximab-ms", "lft", "before_first", None, 0),
    ("rituximab-ra", "hbv", "before_first", None, 0),
    ("rituximab-aav-induction", "hbv", "before_first", None, 0),
    ("rituximab-aav-maintenance", "hbv", "before_first", None, 0),
    ("inebilizumab-nmosd", "hbv", "before_first", None, 0),
    ("inebilizumab-nmosd", "tb", "before_first", None, 0),
    ("infliximab-ra", "tb", "before_first", None, 0),
    ("tocilizumab-ra", "tb", "before_first", None, 0),
    ("alemtuzumab-ms", "tb", "before_first", None, 0),
    ("cyclophosphamide-aav", "cbc", "before_each", 3, 0),
    ("eculizumab-mg", "meningococcal_vaccine", "before_first", None, 14),
    ("ravulizumab-mg", "meningococcal_vaccine", "before_first", None, 14),
    ("rituximab-aav-induction", "igg", "periodic", 182, 0),
    ("rituximab-aav-maintenance", "igg", "periodic", 182, 0),
    ("ivig-dm", "iga", "before_first", None, 0),
    ("ivig-cidp", "iga", "before_first", None, 0),
    ("ivig-dm", "creatinine", "before_first", None, 0),
    ("ivig-cidp", "creatinine", "before_first", None, 0),
]


@pytest.mark.parametrize(("code", "test", "when", "valid_days", "lead_days"), REQUIRED)
def test_required_screening(
    code: str, test: str, when: str, valid_days: int | None, lead_days: int
) -> None:
    policy = MonitoringPolicy.from_entry(BY_CODE[code])
    found = [s for s in policy.screenings if s.test == test]
    assert len(found) == 1
    assert (found[0].when, found[0].valid_days, found[0].min_days_before_first) == (
        when, valid_days, lead_days,
    )  # fmt: skip


def test_monitoring_rules() -> None:
    for code in ("rituximab-ra", "rituximab-aav-induction", "rituximab-aav-maintenance"):
        assert MonitoringPolicy.from_entry(BY_CODE[code]).first_infusion_reset_days == 364
    assert MonitoringPolicy.from_entry(BY_CODE["cyclophosphamide-aav"]).neutrophils_below == 1.5
    followup = MonitoringPolicy.from_entry(BY_CODE["alemtuzumab-ms"]).followup_labs
    assert followup is not None
    assert (followup.tests, followup.every_months, followup.months_after_last_dose) == (
        ("cbc", "creatinine"), 1, 48,
    )  # fmt: skip
    others = CODES - {"rituximab-ra", "rituximab-aav-induction", "rituximab-aav-maintenance",
                      "cyclophosphamide-aav", "alemtuzumab-ms"}  # fmt: skip
    for code in others:
        assert "monitoring" not in BY_CODE[code], code


def test_only_alemtuzumab_needs_a_bed() -> None:
    beds = {code for code in CODES if parse_regimen(BY_CODE[code]).chair_kind == "bed"}
    assert beds == {"alemtuzumab-ms"}


def test_cyclophosphamide_has_six_pulses_editable_to_ten() -> None:
    repeat = parse_regimen(BY_CODE["cyclophosphamide-aav"]).repeat
    assert repeat is not None and (repeat.count, repeat.max_count) == (6, 10)
