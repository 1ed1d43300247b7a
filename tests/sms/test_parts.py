"""The arithmetic of issue 17: every SMS is one Thai part with a link base of 20 characters.

``pytest -s tests/sms/test_parts.py`` prints the parts of every template at 20 and 30
characters of link base, and from which host length the OTP SMS drops its WebOTP line: the
figures the README quotes.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from jinja2 import meta

from portal.kernel.tracking_links import new_tracking_token, tracking_link
from portal.otp.policy import OtpPolicy
from portal.sms.parts import sms_parts, sms_units, ucs2_parts
from portal.sms.texts import (
    MAX_LINK_BASE_LENGTH,
    render_sms,
    sms_environment,
    with_webotp_line,
)
from portal.tables.citizen_request import RequestStatus

TEMPLATES = Path(__file__).resolve().parents[2] / "portal" / "templates" / "sms"
WEBOTP_MAX_HOST = 22
"""Longest host the OTP SMS (default 5-minute code) still carries a WebOTP line for."""


def link_base(length: int) -> str:
    base = "https://" + "a" * (length - len("https://"))
    assert len(base) == length
    return base


def worst_values(base: str) -> dict[str, list[Any]]:
    """The longest value each template variable can take; a list: try every one."""
    return {
        "code": ["999999"],
        "minutes": [int(OtpPolicy().validity.total_seconds() // 60)],
        "number": ["69-999999"],  # YY-NNNNNN, always 9 (portal/kernel/request_numbers.py)
        "tracking_url": [tracking_link(base, new_tracking_token())],
        "status": [status.value for status in RequestStatus],
        "office_phone": ["", "+" + "9" * 15],  # dial form: + and at most 15 digits
        "masked_phone": ["08x-xxx-0999"],
        "phone": ["08x-xxx-0999"],
    }


def template_names() -> list[str]:
    names = sorted(path.name for path in TEMPLATES.glob("*.txt"))
    assert names, TEMPLATES
    return names


def contexts(name: str, base: str) -> Iterator[dict[str, Any]]:
    env = sms_environment()
    source = env.loader.get_source(env, f"sms/{name}")[0]  # type: ignore[union-attr]
    variables = sorted(meta.find_undeclared_variables(env.parse(source)))
    values = worst_values(base)
    unknown = [v for v in variables if v not in values]
    assert not unknown, f"sms/{name}: add the longest value of {unknown} to worst_values()"
    for combination in product(*(values[v] for v in variables)):
        yield dict(zip(variables, combination, strict=True))


def most_parts(name: str, base_length: int) -> tuple[int, int, str]:
    """(parts, UCS-2 units, text) of the template's longest rendering."""
    texts = [render_sms(name, **c) for c in contexts(name, link_base(base_length))]
    longest = max(texts, key=sms_units)
    return sms_parts(longest), sms_units(longest), longest


@pytest.mark.parametrize("name", template_names())
def test_every_sms_is_one_part_with_a_20_character_link_base(name: str) -> None:
    parts, units, text = most_parts(name, MAX_LINK_BASE_LENGTH)
    assert MAX_LINK_BASE_LENGTH == 20
    assert parts == 1, f"{name}: {units} UCS-2 characters (70 fit one part): {text}"


def test_a_link_base_one_longer_makes_some_sms_two_parts() -> None:
    """20 is the limit, not a guess: at 21 the receipt (or another) no longer fits."""
    assert max(most_parts(name, MAX_LINK_BASE_LENGTH + 1)[0] for name in template_names()) == 2


def test_parts_at_20_and_30_character_link_bases(capsys: pytest.CaptureFixture[str]) -> None:
    table = {
        name: (most_parts(name, 20)[:2], most_parts(name, 30)[:2]) for name in template_names()
    }
    with capsys.disabled():
        print("\nSMS parts (UCS-2 characters) with a link base of 20 / 30 characters")
        for name, ((parts20, units20), (parts30, units30)) in table.items():
            print(f"  {name:<24} {parts20} ({units20})   {parts30} ({units30})")
    # The figures the README states.
    at_30 = {name: figures[1][0] for name, figures in table.items()}
    assert at_30["otp.txt"] == 1  # no link
    for name in ("receipt.txt", "status.txt", "phone_changed.txt"):
        assert at_30[name] == 2


def test_the_webotp_line_is_dropped_from_a_23_character_host(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = "999999"
    minutes = int(OtpPolicy().validity.total_seconds() // 60)
    body = render_sms("otp.txt", code=code, minutes=minutes)

    def carries_line(host_length: int) -> bool:
        host = "a" * (host_length - len(".go.th")) + ".go.th"
        text = with_webotp_line(body, host=host, code=code)
        assert sms_parts(text) == 1
        return text.endswith(f"\n@{host} #{code}")

    longest = max(n for n in range(7, 70) if carries_line(n))
    with capsys.disabled():
        print(
            f"\nOTP SMS: {sms_units(body)} characters; WebOTP line up to a {longest}-character host"
        )
    assert longest == WEBOTP_MAX_HOST
    assert not any(carries_line(n) for n in range(longest + 1, 70))
    assert carries_line(len("eservice.example.go.th"))


# The segment arithmetic itself


@pytest.mark.parametrize(
    ("length", "parts"),
    [(0, 1), (1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_thai_is_70_in_one_part_and_67_each_when_split(length: int, parts: int) -> None:
    assert sms_parts("ก" * length) == ucs2_parts("ก" * length) == parts


def test_one_thai_character_makes_a_latin_text_ucs2() -> None:
    assert sms_parts("a" * 160) == 1
    assert sms_parts("a" * 159 + "ก") == 3  # 160 UCS-2 units: 67 + 67 + 26


@pytest.mark.parametrize(("length", "parts"), [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_latin_is_160_in_one_part_and_153_each_when_split(length: int, parts: int) -> None:
    assert sms_parts("a" * length) == parts


def test_gsm_extension_characters_count_twice() -> None:
    assert sms_units("{}") == 4
    assert sms_parts("a" * 158 + "€") == 1
    assert sms_parts("a" * 159 + "€") == 2


def test_characters_outside_the_basic_plane_take_two_ucs2_units() -> None:
    assert sms_parts("ก" * 68 + "😀") == 1
    assert sms_parts("ก" * 69 + "😀") == 2
