"""API routes."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from clinic.api import bp


@bp.get("/me")
def me() -> dict[str, Any]:
    """Return the user the token belongs to."""
    return {"username": current_user.username, "role": current_user.role}
