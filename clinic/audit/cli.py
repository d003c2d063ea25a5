"""`flask audit verify`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from clinic.audit.services import verify_chain
from clinic.extensions import db

audit_cli = AppGroup("audit", help="Check the audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the hash chain: 'ok N events' (exit 0) or the first broken link (exit 1)."""
    result = verify_chain(db.session.connection())
    if not result.ok:
        click.echo(f"broken link at audit event {result.broken_id}: {result.problem}")
        sys.exit(1)
    click.echo(f"ok {result.events} events")
