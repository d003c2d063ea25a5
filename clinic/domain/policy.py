"""Protocol-level monitoring policy, parsed from a catalog entry.

These types are shared by the catalog loader (``clinic.protocols``) and the
flag rules (``clinic.domain.monitoring``). A catalog entry is a plain dict
(from ``catalog.toml`` or the protocol's stored JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

SCREENING_TESTS = (
    "hbv",
    "tb",
    "jcv",
    "igg",
    "cbc",
    "creatinine",
    "pregnancy",
    "meningococcal_vaccine",
    "iga",
    "lft",
)

#: when a screening result is needed
SCREENING_WHEN = ("before_first", "before_each", "periodic")


@dataclass(frozen=True)
class ScreeningRequirement:
    """A test a protocol needs, and how long one result counts.

    ``when``: ``before_first`` (a result before the first dose of the drug),
    ``before_each`` (a result within ``valid_days`` before every dose) or
    ``periodic`` (a result no older than ``valid_days`` at every dose).
    ``valid_days`` None means a result never expires. ``min_days_before_first``
    is a lead time: the result must be collected at least that many days
    before the first dose (e.g. meningococcal vaccination >= 14 days).
    """

    test: str
    when: str
    valid_days: int | None = None
    min_days_before_first: int = 0
    note: str = ""

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> "ScreeningRequirement":
        """Build from one ``[[protocol.screenings]]`` table; raise ValueError."""
        test = str(raw["test"])
        when = str(raw.get("when", "before_first"))
        if test not in SCREENING_TESTS:
            raise ValueError(f"unknown screening test {test!r}")
        if when not in SCREENING_WHEN:
            raise ValueError(f"unknown screening timing {when!r}")
        valid_days = raw.get("valid_days")
        return cls(
            test=test,
            when=when,
            valid_days=int(valid_days) if valid_days is not None else None,
            min_days_before_first=int(raw.get("min_days_before_first", 0)),
            note=str(raw.get("note", "")),
        )


@dataclass(frozen=True)
class FollowupLabs:
    """Labs due at a fixed rhythm for a time after the last dose (alemtuzumab)."""

    tests: tuple[str, ...]
    every_months: int
    months_after_last_dose: int


@dataclass(frozen=True)
class MonitoringPolicy:
    """What the flag rules need to know about one protocol."""

    drug: str
    screenings: tuple[ScreeningRequirement, ...] = ()
    #: a gap since the drug's last infusion after which the next one counts
    #: as a first infusion again (rituximab: 52 weeks -> first-infusion rate)
    first_infusion_reset_days: int | None = None
    #: hold the dose when neutrophils (x10^9/L) are below this on the day
    neutrophils_below: float | None = None
    followup_labs: FollowupLabs | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> "MonitoringPolicy":
        """Build from a whole catalog entry dict."""
        monitoring = entry.get("monitoring", {}) or {}
        followup = monitoring.get("followup_labs")
        reset_days = monitoring.get("first_infusion_reset_days")
        neutrophils = monitoring.get("neutrophils_below")
        return cls(
            drug=str(entry["drug"]),
            screenings=tuple(
                ScreeningRequirement.from_dict(s) for s in entry.get("screenings", ())
            ),
            first_infusion_reset_days=int(reset_days) if reset_days is not None else None,
            neutrophils_below=float(neutrophils) if neutrophils is not None else None,
            followup_labs=FollowupLabs(
                tests=tuple(followup["tests"]),
                every_months=int(followup["every_months"]),
                months_after_last_dose=int(followup["months_after_last_dose"]),
            )
            if followup
            else None,
        )
