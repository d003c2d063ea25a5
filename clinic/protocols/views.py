"""Protocol list, protocol page with a sample timeline, admin edit."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.auth.access import roles_required
from clinic.domain.policy import MonitoringPolicy
from clinic.domain.regimens import describe_regimen, parse_regimen
from clinic.extensions import db
from clinic.protocols.forms import ProtocolForm, rules_toml
from clinic.protocols.models import Protocol
from clinic.protocols.services import (
    SAMPLE_MEASURES,
    current_protocol,
    current_protocols,
    plan_entry,
    protocol_versions,
    save_version,
)

bp = Blueprint("protocols", __name__, url_prefix="/protocols")

#: the sample timeline starts on the first Monday of next year (stable text)
def _sample_start(today: date) -> date:
    first = date(today.year + 1, 1, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


@bp.get("/")
def index() -> str:
    """List the current protocols grouped by disease."""
    groups = [(disease, list(rows)) for disease, rows in groupby(current_protocols(), key=lambda p: p.disease)]
    summaries = {p.code: describe_regimen(parse_regimen(p.definition, p.code)) for _, rows in groups for p in rows}
    return render_template("protocols/index.html", groups=groups, summaries=summaries)


def _current_or_404(code: str) -> Protocol:
    protocol = current_protocol(code)
    if protocol is None:
        abort(404, f"No protocol with code {code}.")
    return protocol


@bp.get("/<code>")
def detail(code: str) -> str:
    """Show a protocol in plain words with a 12-month sample timeline."""
    protocol = _current_or_404(code)
    entry = protocol.definition
    start = _sample_start(date.today())
    timeline = [
        t for t in plan_entry(entry, start, SAMPLE_MEASURES) if t.target_date < start + timedelta(days=365)
    ]
    return render_template(
        "protocols/detail.html",
        protocol=protocol,
        entry=entry,
        summary=describe_regimen(parse_regimen(entry, code)),
        policy=MonitoringPolicy.from_entry(entry),
        timeline=timeline,
        sample_start=start,
        versions=protocol_versions(code),
    )


@bp.route("/<code>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(code: str) -> str | Response:
    """Edit a protocol; saving makes a new version (booked series keep theirs)."""
    protocol = _current_or_404(code)
    form = ProtocolForm(data={**protocol.definition, "rules": rules_toml(protocol.definition)})
    if form.validate_on_submit():
        try:
            row = save_version(form.entry(protocol.definition), created_by_id=current_user.id)
        except (ValueError, KeyError, TypeError) as error:
            form.rules.errors = [f"The regimen cannot be planned: {error}"]
        else:
            if row is None:
                flash("Nothing changed; the current version stays.", "info")
            else:
                db.session.commit()
                flash(f"Saved {row.name} as version {row.version}.", "success")
            return redirect(url_for("protocols.detail", code=code))
    return render_template("protocols/edit.html", form=form, protocol=protocol)
