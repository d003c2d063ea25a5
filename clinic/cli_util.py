"""Shared helpers for the `flask --app clinic …` commands."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from clinic.extensions import db


def fail(message: str) -> NoReturn:
    """Print a one-line error and exit with status 2 (nothing written)."""
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)
