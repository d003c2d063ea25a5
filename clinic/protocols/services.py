"""Load the catalog into the database as versioned protocol rows."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from clinic.extensions import db
from clinic.protocols.models import Protocol

CATALOG_PATH = Path(__file__).with_name("catalog.toml")


def read_catalog(path: Path = CATALOG_PATH) -> list[dict[str, Any]]:
    """Return the catalog entries of ``catalog.toml``."""
    with path.open("rb") as handle:
        return list(tomllib.load(handle)["protocol"])


def checksum(entry: dict[str, Any]) -> str:
    """Return a stable hash of a catalog entry (key order does not matter)."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def current_protocols() -> list[Protocol]:
    """Return the current version of every protocol."""
    return list(
        db.session.scalars(
            sa.select(Protocol).where(Protocol.current.is_(True)).order_by(Protocol.disease, Protocol.name)
        )
    )


def current_protocol(code: str) -> Protocol | None:
    """Return the current version of ``code``, or None."""
    return db.session.scalar(
        sa.select(Protocol).where(Protocol.code == code, Protocol.current.is_(True))
    )


@dataclass(frozen=True)
class SyncResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def save_version(entry: dict[str, Any], created_by_id: int | None = None) -> Protocol | None:
    """Store ``entry`` as a new version of its code unless it is unchanged.

    Returns the new row, or None when the current version already matches.
    Earlier versions stay: booked series keep the version they were planned with.
    """
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
        indication="; ".join(
            f"{item['label']} ({item['icd10']})" for item in entry.get("indications", [])
        ),
        definition=entry,
        checksum=digest,
        current=True,
        created_by_id=created_by_id,
    )
    db.session.add(row)
    db.session.flush()
    return row


def sync_catalog(entries: list[dict[str, Any]] | None = None) -> SyncResult:
    """Load catalog entries; a changed entry becomes a new version."""
    entries = read_catalog() if entries is None else entries
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
