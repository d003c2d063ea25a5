"""`flask users create|token`."""

from __future__ import annotations

from clinic.auth.models import ApiToken, User
from tests.conftest import count


def test_create_with_password_stdin_then_token(app, session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "maria", "--role", "nurse", "--password-stdin"], input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "created user maria (nurse)" in result.output
    result = runner.invoke(args=["users", "token", "maria"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert len(result.output.strip().splitlines()) == 1 and len(token) >= 32
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.get_json() == {"username": "maria", "role": "nurse"}


def test_create_prompts_for_the_password(app, session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "otto", "--role", "viewer"], input="long-enough\nlong-enough\n")
    assert result.exit_code == 0, result.output
    assert count(User) == 1


def test_unknown_role_exits_2_and_writes_nothing(app, session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "zed", "--role", "surgeon", "--password-stdin"], input="whatever-pass\n")
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "unknown role 'surgeon'" in result.output
    assert count(User) == 0


def test_existing_name_exits_2_and_writes_nothing(app, session) -> None:
    runner = app.test_cli_runner()
    args = ["users", "create", "maria", "--role", "nurse", "--password-stdin"]
    assert runner.invoke(args=args, input="first-pass\n").exit_code == 0
    result = runner.invoke(args=["users", "create", "Maria", "--role", "admin", "--password-stdin"], input="second-pass\n")
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert count(User) == 1


def test_short_password_exits_2(app, session) -> None:
    result = app.test_cli_runner().invoke(
        args=["users", "create", "kim", "--role", "nurse", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 2
    assert count(User) == 0


def test_token_for_unknown_user_exits_2(app, session) -> None:
    result = app.test_cli_runner().invoke(args=["users", "token", "ghost"])
    assert result.exit_code == 2
    assert count(ApiToken) == 0
