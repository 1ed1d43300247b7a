"""CSRF tokens an old secret signed: moved to the current key, never a way around CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from portal.app import create_app
from portal.keyring import derive
from portal.web.csrf_keys import _signed
from tests.conftest import csrf_token, make_settings

OLD = "an-old-secret-that-is-long-enough-0123456789"
NEW = "the-new-secret-that-is-long-enough-abcdefghij"
COOKIE = "portal_csrf"
SIGN_IN = {"username": "nobody", "password": "wrong-password-1", "code": "123456"}


def old_token() -> str:
    return _signed(secrets.token_hex(32), derive(OLD, "csrf").hex())


def new_signature_of(token: str) -> str:
    return _signed(token[:64], derive(NEW, "csrf").hex())


@pytest.fixture
def client(tmp_path: Path, database: str) -> Iterator[TestClient[Litestar]]:
    settings = make_settings(tmp_path, database, PORTAL_SECRET_KEY=NEW, PORTAL_OLD_SECRET_KEYS=OLD)
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as test_client:
        yield test_client


def test_a_page_moves_an_old_cookie_to_the_current_key(client: TestClient[Litestar]) -> None:
    token = old_token()
    client.cookies.set(COOKIE, token, domain="testserver.local")
    page_token = csrf_token(client, "/staff/sign-in")
    assert page_token == new_signature_of(token)
    assert client.cookies[COOKIE] == new_signature_of(token)
    response = client.post(
        "/staff/sign-in", data={**SIGN_IN, "_csrf_token": page_token}, follow_redirects=False
    )
    assert response.status_code == 422  # past CSRF: refused as a wrong sign-in


def test_a_form_rendered_before_the_change_is_accepted_once_moved(
    client: TestClient[Litestar],
) -> None:
    token = old_token()
    client.cookies.set(COOKIE, token, domain="testserver.local")
    response = client.post(
        "/staff/sign-in", data={**SIGN_IN, "_csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 422
    assert client.cookies[COOKIE] == new_signature_of(token)
    htmx = client.post(
        "/staff/sign-in",
        data=SIGN_IN,
        headers={"x-csrftoken": new_signature_of(token)},
        follow_redirects=False,
    )
    assert htmx.status_code == 422


@pytest.mark.parametrize("carried", ["", "another"])
def test_an_old_cookie_without_its_own_token_is_still_refused(
    client: TestClient[Litestar], carried: str
) -> None:
    """Another site can make the browser send the cookie, not know the token in it."""
    client.cookies.set(COOKIE, old_token(), domain="testserver.local")
    data = dict(SIGN_IN)
    if carried:
        data["_csrf_token"] = old_token()
    response = client.post("/staff/sign-in", data=data, follow_redirects=False)
    assert response.status_code == 403
    header = client.post(
        "/staff/sign-in",
        data=SIGN_IN,
        headers={"x-csrftoken": old_token()},
        follow_redirects=False,
    )
    assert header.status_code == 403


def test_without_old_secrets_an_unknown_signature_is_refused_and_dropped(
    tmp_path: Path, database: str
) -> None:
    settings = make_settings(tmp_path, database, PORTAL_SECRET_KEY=NEW)
    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        token = old_token()
        client.cookies.set(COOKIE, token, domain="testserver.local")
        response = client.post(
            "/staff/sign-in", data={**SIGN_IN, "_csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 403
        assert COOKIE not in client.cookies  # dropped: the next page starts afresh
