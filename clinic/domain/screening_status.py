"""How a patient stands on each screening their protocols require, as of today.

The flag rules (``clinic.domain.monitoring``) judge a screening for one
appointment's day; this module judges it for the patient page, as of
``today``, with the same validity rules and the same "due soon" horizon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from clinic.domain.monitoring import DUE_SOON_DAYS, ScreeningResult, requirements_for, results_on_or_before
from clinic.domain.policy import MonitoringPolicy, ScreeningRequirement

#: least urgent first
STATUSES = ("valid", "due_soon", "expired", "missing")
STATUS_LABELS = {"valid": "valid", "due_soon": "due soon", "expired": "expired", "missing": "missing"}


@dataclass(frozen=True)
class ScreeningStatus:
    """One required test: its standing today and the result it rests on."""

    requirement: ScreeningRequirement
    status: str
    latest: ScreeningResult | None = None
    expires_on: date | None = None
    days_left: int | None = None
    #: the names of the protocols that need it
    needed_for: tuple[str, ...] = ()

    @property
    def counts(self) -> bool:
        """Return True while the latest result still satisfies the requirement."""
        return self.status in ("valid", "due_soon")

    @property
    def label(self) -> str:
        """Return the status as staff read it."""
        return STATUS_LABELS[self.status]


def screening_status(
    requirement: ScreeningRequirement,
    screenings: Sequence[ScreeningResult],
    today: date,
    last_dose_on: date | None = None,
) -> ScreeningStatus:
    """Return the requirement's standing today; ``last_dose_on`` is the drug's latest dose given."""
    results = results_on_or_before(screenings, requirement.test, today)
    if not results:
        return ScreeningStatus(requirement, "missing")
    latest = results[0]
    if requirement.when == "before_first" and last_dose_on is not None:
        return ScreeningStatus(requirement, "valid", latest)  # treatment started: it did its job
    if requirement.valid_days is None:
        stale = (
            requirement.when == "before_each" and last_dose_on is not None and latest.collected_on <= last_dose_on
        )
        return ScreeningStatus(requirement, "expired" if stale else "valid", latest)
    expires_on = latest.collected_on + timedelta(days=requirement.valid_days)
    days_left = (expires_on - today).days
    if days_left < 0:
        status = "expired"
    elif requirement.when == "periodic" and days_left <= DUE_SOON_DAYS:
        status = "due_soon"
    else:
        status = "valid"
    return ScreeningStatus(requirement, status, latest, expires_on, days_left)


def screening_statuses(
    policies: Sequence[tuple[str, MonitoringPolicy]],
    screenings: Sequence[ScreeningResult],
    today: date,
    last_doses: Mapping[str, date] | None = None,
) -> list[ScreeningStatus]:
    """Return one status per distinct requirement of the named policies, in catalog order.

    ``last_doses`` maps a drug (case-folded) to the day of its latest dose given.
    """
    last_doses = last_doses or {}
    needed: dict[ScreeningRequirement, list[str]] = {}
    drugs: dict[ScreeningRequirement, str] = {}
    for name, policy in policies:
        for requirement in requirements_for(policy):
            names = needed.setdefault(requirement, [])
            if name not in names:
                names.append(name)
            drugs.setdefault(requirement, policy.drug.strip().casefold())
    return [
        replace(screening_status(requirement, screenings, today, last_doses.get(drugs[requirement])),
                needed_for=tuple(names))
        for requirement, names in needed.items()
    ]
