"""`flask protocols sync|plan`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from clinic.extensions import db
from clinic.protocols.services import sync_catalog

protocols_cli = AppGroup("protocols", help="Therapy protocol catalog.")


@protocols_cli.command("sync")
def sync_command() -> None:
    """Load clinic/protocols/catalog.toml (new versions where changed)."""
    result = sync_catalog()
    db.session.commit()
    click.echo(
        f"protocols: {len(result.created)} new, {len(result.updated)} new versions, "
        f"{len(result.unchanged)} unchanged"
    )
