"""Sign-in and sign-out."""

from __future__ import annotations

import pytest

from tests.conftest import sign_in

GENERIC = b"Invalid username or password."


def test_sign_in_and_out(client, users) -> None:
    response = sign_in(client, "scheduler1")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"scheduler" in home.data and b"Sign out" in home.data
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client, users) -> None:
    wrong = sign_in(client, "scheduler1", "not the password")
    unknown = sign_in(client, "nobody-here", "not the password")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert GENERIC in response.data
    assert client.get("/").status_code == 302


def test_inactive_user_cannot_sign_in(client, users, session) -> None:
    users["nurse"].active = False
    session.flush()
    assert sign_in(client, "nurse1").status_code == 401


def test_next_is_followed_only_when_local(client, users) -> None:
    response = client.post("/login", data={"username": "viewer1", "password": "correct horse", "next": "/patients/"})
    assert response.headers["Location"] == "/patients/"
    client.post("/logout")
    response = client.post(
        "/login", data={"username": "viewer1", "password": "correct horse", "next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example/", "\\\\evil.example", "javascript:alert(1)",
    "/patients/\r\nSet-Cookie: x=1", "",
])
def test_next_never_leaves_the_site(client, users, target: str) -> None:
    response = client.post("/login", data={"username": "viewer1", "password": "correct horse", "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_out_is_post_only(signed_in) -> None:
    client = signed_in("viewer")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_anonymous_redirect_keeps_next(client) -> None:
    response = client.get("/patients/?q=abc")
    assert response.status_code == 302
    assert "next=" in response.headers["Location"]


def test_api_rejects_missing_and_bad_tokens(client, users) -> None:
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_api_ignores_the_session_cookie(client, users) -> None:
    sign_in(client, "admin1")
    assert client.get("/api/v1/me").status_code == 401


def test_404_page_uses_the_layout(signed_in) -> None:
    client = signed_in("viewer")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Sign out" in response.data
