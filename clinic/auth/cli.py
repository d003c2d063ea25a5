"""`flask users create|token|deactivate`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from clinic.auth.models import ROLES, User
from clinic.auth.clock import now
from clinic.auth.services import UserError, create_user, deactivate_user, find_user, issue_token
from clinic.cli_util import fail
from clinic.extensions import db

users_cli = AppGroup("users", help="Manage staff users.")


@users_cli.command("create")
@click.argument("name")
@click.option("--role", required=True, help=f"One of: {', '.join(ROLES)}.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--full-name", default="", help="Name shown in the app.")
def create_command(name: str, role: str, password_stdin: bool, full_name: str) -> None:
    """Create a staff user."""
    if role not in ROLES:
        fail(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if find_user(name) is not None:
        fail(f"a user named {name!r} already exists")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(name, role, password, full_name=full_name)
    except UserError as error:
        fail(str(error))
    db.session.commit()
    click.echo(f"created user {user.username} ({user.role})")


def existing_user(name: str) -> User:
    """Return the user called ``name``, or exit 2 with a one-line error."""
    user = find_user(name)
    if user is None:
        fail(f"no user named {name!r}")
    return user


@users_cli.command("token")
@click.argument("name")
def token_command(name: str) -> None:
    """Print a new API token for NAME."""
    user = existing_user(name)
    token = issue_token(user)
    db.session.commit()
    click.echo(token)


@users_cli.command("deactivate")
@click.argument("name")
def deactivate_command(name: str) -> None:
    """Deactivate NAME: no sign-in, open sessions ended, API tokens revoked."""
    user = existing_user(name)
    ended = deactivate_user(user, now())
    db.session.commit()
    click.echo(f"deactivated user {user.username}; ended {ended} open session{'s' if ended != 1 else ''}")
