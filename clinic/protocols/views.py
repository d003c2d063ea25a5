"""Protocol list, grouped by disease."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, render_template

from clinic.protocols.services import current_protocols

bp = Blueprint("protocols", __name__, url_prefix="/protocols")


@bp.get("/")
def index() -> str:
    """List the current protocols grouped by disease."""
    groups = [
        (disease, list(rows))
        for disease, rows in groupby(current_protocols(), key=lambda p: p.disease)
    ]
    return render_template("protocols/index.html", groups=groups)
