"""Tracking tokens: 22 characters in new SMS, the 24-character ones already sent still work."""

from __future__ import annotations

import secrets
import string
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from portal.kernel.tracking_links import (
    TOKEN_BYTES,
    TOKEN_LENGTH,
    looks_like_token,
    new_tracking_token,
    token_digest,
    tracking_link,
)
from portal.tables.citizen_request import CitizenRequest
from tests.citizen.helpers import GENERAL_REQUEST_ANSWERS, submit_form, verify_phone
from tests.conftest import html

BASE64URL = set(string.ascii_letters + string.digits + "-_")


def test_new_tokens_are_22_base64url_characters_of_128_random_bits() -> None:
    assert TOKEN_BYTES * 8 == 128  # the minimum the issue requires
    tokens = {new_tracking_token() for _ in range(200)}
    assert len(tokens) == 200
    assert {len(token) for token in tokens} == {TOKEN_LENGTH} == {22}
    assert set().union(*tokens) <= BASE64URL


def test_old_and_new_token_lengths_both_look_like_tokens() -> None:
    assert looks_like_token(new_tracking_token())
    assert looks_like_token(secrets.token_urlsafe(18))  # 24 characters: SMS sent before
    assert not looks_like_token("x" * 15)
    assert not looks_like_token("abc/def" * 4)


def test_tracking_link_has_a_one_letter_path() -> None:
    assert tracking_link("https://oss.go.th", "T" * 22) == "https://oss.go.th/t/" + "T" * 22


def test_a_24_character_token_sent_before_still_opens_the_request(
    client: TestClient[Litestar], run_db: Any, new_browser: Any
) -> None:
    verify_phone(client, run_db, "0800000171", "+66800000171")
    submit_form(client, GENERAL_REQUEST_ANSWERS)
    request = run_db(lambda: CitizenRequest.objects().first())
    old = secrets.token_urlsafe(18)
    assert len(old) == 24
    run_db(
        lambda: CitizenRequest.update(
            {
                CitizenRequest.tracking_token: old,
                CitizenRequest.tracking_token_hash: token_digest(old),
            }
        ).where(CitizenRequest.id == request.id)
    )
    response = new_browser().get(f"/t/{old}")
    assert response.status_code == 200
    assert html(response).select_one("[data-request-number]").get_text(strip=True) == request.number
