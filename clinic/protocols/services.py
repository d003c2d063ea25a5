"""Protocol use cases: load the catalog as versions, plan doses, edit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from clinic.domain.planning import plan_doses
from clinic.domain.policy import MonitoringPolicy
from clinic.domain.regimens import Regimen, load_catalog, parse_regimen
from clinic.domain.targets import DoseTarget, Measures
from clinic.extensions import db
from clinic.protocols.models import Protocol

#: the sample patient of the protocol page's timeline
SAMPLE_MEASURES = Measures(weight_kg=70.0, height_cm=175.0)


def checksum(entry: dict[str, Any]) -> str:
    """Return a stable hash of a catalog entry (key order does not matter)."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def current_protocols() -> list[Protocol]:
    """Return the current version of every protocol, by disease and name."""
    return list(
        db.session.scalars(
            sa.select(Protocol).where(Protocol.current.is_(True)).order_by(Protocol.disease, Protocol.name)
        )
    )


def current_protocol(code: str) -> Protocol | None:
    """Return the current version of ``code``, or None."""
    return db.session.scalar(sa.select(Protocol).where(Protocol.code == code, Protocol.current.is_(True)))


def protocol_versions(code: str) -> list[Protocol]:
    """Return every version of ``code``, newest first."""
    return list(db.session.scalars(sa.select(Protocol).where(Protocol.code == code).order_by(Protocol.version.desc())))


def validate_entry(entry: dict[str, Any]) -> Regimen:
    """Check a catalog entry end to end; raise ValueError naming the problem."""
    for key in ("code", "name", "drug", "disease"):
        if not str(entry.get(key, "")).strip():
            raise ValueError(f"{key} is required")
    regimen = parse_regimen(entry, entry["code"])
    MonitoringPolicy.from_entry(entry)
    # Plan a sample patient: catches regimens that parse but cannot be dosed.
    plan_doses(regimen, date(2027, 1, 4), SAMPLE_MEASURES, max_doses=12)
    return regimen


def save_version(entry: dict[str, Any], created_by_id: int | None = None) -> Protocol | None:
    """Store ``entry`` as a new version of its code unless it is unchanged.

    Returns the new row, or None when the current version already matches.
    Earlier versions stay: booked series keep the version they were planned with.
    """
    validate_entry(entry)
    digest = checksum(entry)
    current = current_protocol(entry["code"])
    if current is not None and current.checksum == digest:
        return None
    version = 1
    if current is not None:
        current.current = False
        version = current.version + 1
        db.session.flush()
    row = Protocol(
        code=entry["code"],
        version=version,
        name=entry["name"],
        drug=entry["drug"],
        disease=entry.get("disease", ""),
        indication="; ".join(f"{item['label']} ({item['icd10']})" for item in entry.get("indications", [])),
        definition=entry,
        checksum=digest,
        current=True,
        created_by_id=created_by_id,
    )
    db.session.add(row)
    db.session.flush()
    return row


@dataclass(frozen=True)
class SyncResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def sync_catalog(entries: list[dict[str, Any]] | None = None) -> SyncResult:
    """Load catalog entries; a changed entry becomes a new version."""
    entries = load_catalog() if entries is None else entries
    created, updated, unchanged = [], [], []
    for entry in entries:
        existed = current_protocol(entry["code"]) is not None
        row = save_version(entry)
        if row is None:
            unchanged.append(entry["code"])
        elif existed:
            updated.append(entry["code"])
        else:
            created.append(entry["code"])
    return SyncResult(created, updated, unchanged)


class UnknownProtocol(LookupError):
    """No protocol has this code."""


def protocol_entry(code: str) -> dict[str, Any]:
    """Return the current definition of ``code``: the database's, else the catalog file's."""
    try:
        row = current_protocol(code)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        db.session.rollback()  # not migrated yet: the catalog file still answers
        row = None
    if row is not None:
        return row.definition
    for entry in load_catalog():
        if entry["code"] == code:
            return entry
    raise UnknownProtocol(f"unknown protocol code {code!r}")


def plan_entry(
    entry: dict[str, Any], start: date, measures: Measures, doses: int | None = None
) -> list[DoseTarget]:
    """Plan the nominal doses of a catalog entry (no chairs); raise PlanningError."""
    regimen = parse_regimen(entry, entry["code"])
    return plan_doses(regimen, start, measures, max_doses=doses)


def target_json(target: DoseTarget) -> dict[str, Any]:
    """Return a dose target as the `protocols plan --json` object."""
    return {
        "number": target.number,
        "phase": target.phase,
        "target_date": target.target_date.isoformat(),
        "earliest": target.earliest.isoformat(),
        "latest": target.latest.isoformat(),
        "amount": target.amount,
        "unit": target.unit,
        "infusion_minutes": target.infusion_minutes,
        "observation_minutes": target.observation_minutes,
    }

