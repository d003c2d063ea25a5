"""/api/v1/protocols."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.wrappers import Response

from clinic.api import bp
from clinic.domain.regimens import describe_regimen, parse_regimen
from clinic.errors import ApiError
from clinic.protocols.models import Protocol
from clinic.protocols.services import current_protocol, current_protocols


def protocol_summary(protocol: Protocol) -> dict[str, Any]:
    return {
        "code": protocol.code,
        "version": protocol.version,
        "name": protocol.name,
        "drug": protocol.drug,
        "indication": protocol.indication,
        "disease": protocol.disease,
        "summary": describe_regimen(parse_regimen(protocol.definition, protocol.code)),
    }


@bp.get("/protocols")
def list_protocols() -> Response:
    """List the current version of every protocol."""
    return jsonify([protocol_summary(p) for p in current_protocols()])


@bp.get("/protocols/<code>")
def get_protocol(code: str) -> dict[str, Any]:
    """Return one protocol with its regimen, screenings and notes."""
    protocol = current_protocol(code)
    if protocol is None:
        raise ApiError(404, f"No protocol with code {code}.")
    entry = protocol.definition
    body = protocol_summary(protocol)
    body.update(
        {
            "brand": entry.get("brand"),
            "indications": entry.get("indications", []),
            "regimen": entry.get("regimen", {}),
            "screenings": entry.get("screenings", []),
            "monitoring": entry.get("monitoring", {}),
            "premedication": entry.get("premedication", ""),
            "observation": entry.get("observation_text", ""),
            "reaction_notes": entry.get("reaction_notes", ""),
            "infection_notes": entry.get("infection_notes", ""),
            "notes": entry.get("notes", ""),
            "sources": entry.get("sources", []),
        }
    )
    return body
