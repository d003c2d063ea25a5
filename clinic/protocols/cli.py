"""`flask protocols sync|plan`."""

from __future__ import annotations

import json
from datetime import date

import click
from flask.cli import AppGroup

from clinic.domain.regimens import PlanningError
from clinic.domain.targets import Measures
from clinic.cli_util import fail
from clinic.extensions import db
from clinic.protocols.services import UnknownProtocol, plan_entry, protocol_entry, sync_catalog, target_json

protocols_cli = AppGroup("protocols", help="Therapy protocol catalog.")



@protocols_cli.command("sync")
def sync_command() -> None:
    """Load clinic/protocols/catalog.toml (new versions where changed)."""
    try:
        result = sync_catalog()
    except ValueError as error:
        fail(f"catalog not loaded: {error}")
    db.session.commit()
    click.echo(
        f"protocols: {len(result.created)} new, {len(result.updated)} new versions, "
        f"{len(result.unchanged)} unchanged"
    )


def _number(raw: str | None, name: str) -> float | None:
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        fail(f"--{name} must be a number, got {raw!r}")
    return None


@protocols_cli.command("plan")
@click.argument("code")
@click.option("--start", "start_raw", required=True, help="Day 0, YYYY-MM-DD.")
@click.option("--weight", "weight_raw", help="Body weight in kg.")
@click.option("--height", "height_raw", help="Height in cm.")
@click.option("--doses", type=click.IntRange(min=1), help="How many doses to print at most.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
def plan_command(
    code: str, start_raw: str, weight_raw: str | None, height_raw: str | None, doses: int | None, as_json: bool
) -> None:
    """Print the nominal dose plan of CODE (no chairs)."""
    try:
        start = date.fromisoformat(start_raw)
    except ValueError:
        fail(f"--start must be a date like 2027-01-04, got {start_raw!r}")
    measures = Measures(_number(weight_raw, "weight"), _number(height_raw, "height"))
    try:
        targets = plan_entry(protocol_entry(code), start, measures, doses)
    except UnknownProtocol as error:
        fail(str(error))
    except PlanningError as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps([target_json(t) for t in targets], indent=2))
        return
    click.echo(f"{'#':>3}  {'phase':<14} {'target':<10}  {'window':<23}  {'dose':>10}  infusion+obs")
    for t in targets:
        window = f"{t.earliest} … {t.latest}"
        click.echo(
            f"{t.number:>3}  {t.phase:<14} {t.target_date}  {window:<23}  "
            f"{t.amount:>7g} {t.unit:<2}  {t.infusion_minutes}+{t.observation_minutes} min"
        )
