"""Way 2 of the manual's step 6: prove the phone by OTP (the OTP step of ``portal.otp`` for
tracking), then read that phone's requests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.attachments.media import media_for_phone
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.kernel.request_numbers import parse_request_number
from portal.kernel.tracking_links import tracking_link
from portal.otp.purposes import TRACK
from portal.otp.session_state import PendingCode, forget_verified
from portal.otp.step_router import (
    OtpStep,
    PhoneStepRefused,
    PhoneStepView,
    StepRoutes,
    otp_step_router,
)
from portal.otp.verified import verified_phone
from portal.sms.texts import render_sms
from portal.tracking.service import request_for_phone, requests_for_phone
from portal.web.offices import office_of
from portal.web.rendering import go_to, render

EXAMPLE_NUMBER = "69-000123"
EXAMPLE_LINK_ID = "Xk3vQ9pLm2Rt7Wz4Yb8Nc6"
"""Way 1's example SMS: made-up, shaped like the real ones (22 URL-safe characters)."""
TRACKING_PHONE = {"verified_phone": verified_phone(TRACK, slide=True)}
"""The phone this browser proved for tracking; reading counts as activity."""


def example_receipt_sms(link_base: str) -> str:
    """The receipt SMS as it goes out (its own template, the SMS link host), with an example
    number and link."""
    return render_sms(
        "receipt.txt", number=EXAMPLE_NUMBER, tracking_url=tracking_link(link_base, EXAMPLE_LINK_ID)
    )


@dataclass(frozen=True)
class LookupPage:
    """What the lookup page needs besides what was typed: way 1's example SMS."""

    example_sms: str


def lookup_page(office: NamedDependency[OfficeRef]) -> LookupPage:
    """The example SMS shows this office's own link host (``OfficeRef.sms_link_base``)."""
    return LookupPage(example_receipt_sms(office.sms_link_base or office.base_url))


def _lookup_step(
    request: Request[Any, Any, Any], page: LookupPage, view: PhoneStepView
) -> Template:
    """The manual's step 6: both ways, way 2's phone step below way 1's example."""
    return render(
        request,
        page="tracking/lookup.html",
        partial="tracking/_lookup_form.html",
        context={
            "phone": view.phone,
            "number": view.fields.get("number", "").strip(),
            "error": view.error,
            "error_field": view.error_field,
            "retry_after": view.retry_after,
            "notice": view.notice,
            "example_sms": page.example_sms,
            "example_number": EXAMPLE_NUMBER,
        },
        status_code=view.status_code,
        headers=view.headers,
    )


def _number_typed(
    request: Request[Any, Any, Any], page: LookupPage, fields: Mapping[str, str]
) -> str:
    """The request number to open once the code passes; none typed is the phone's list.

    Every valid Thai mobile gets a real code, whether or not it filed anything: the answers
    are the same until the code is entered, and only the phone's holder learns what it filed
    (an empty list says so honestly). Limits and the daily SMS budget apply as to any code.
    """
    raw_number = fields.get("number", "").strip()
    number = parse_request_number(raw_number) if raw_number else ""
    if number is None:
        raise PhoneStepRefused("number_invalid", "number")
    return number


async def _show_requests(
    request: Request[Any, Any, Any], page: LookupPage, pending: PendingCode
) -> Response[Any]:
    # A mistyped or someone else's number (or another office's) lands on the phone's own list,
    # never on a 404 that would tell them apart.
    office = office_of(request)
    if pending.next_step and await request_for_phone(
        pending.next_step, pending.phone, office=office
    ):
        return go_to(request, "track_detail", number=pending.next_step)
    return go_to(request, "track_list")


LOOKUP_STEP = OtpStep(
    purpose=TRACK,
    routes=StepRoutes(
        phone_path="/track",
        verify_path="/track/verify",
        resend_path="/track/resend",
        phone_form="track_lookup",
        phone_submit="track_lookup_submit",
        code_form="track_code_form",
        code_submit="track_code_submit",
        code_resend="track_code_resend",
        close="home",
    ),
    context=lookup_page,
    phone_page=_lookup_step,
    on_verified=_show_requests,
    form_fields=("number",),
    next_step=_number_typed,
)

router = otp_step_router(LOOKUP_STEP)


def _lapsed(request: Request[Any, Any, Any]) -> Response[Any]:
    """Ask again, saying why when a session had been verified and went idle."""
    had_session = forget_verified(request.session, TRACK.key)
    view = PhoneStepView(notice="expired" if had_session else None)
    return _lookup_step(request, lookup_page(office_of(request)), view)


@get("/track/requests", name="track_list", dependencies=TRACKING_PHONE)
async def track_list(
    request: Request[Any, Any, Any],
    office: NamedDependency[OfficeRef],
    verified_phone: NamedDependency[str | None],
) -> Response[Any]:
    if verified_phone is None:
        return _lapsed(request)
    return render(
        request,
        page="tracking/list.html",
        partial="tracking/_list.html",
        context={
            "requests": await requests_for_phone(verified_phone, office=office),
            "masked_phone": ThaiMobile(verified_phone).masked,
            # A phone with nothing filed here is told so, with how to reach this office (only
            # its holder gets here: the code proved the phone). ``office`` has ``dial`` and
            # ``phone``, the settings filled in where the office left them empty.
            "office_contact": office,
        },
    )


@get("/track/requests/{number:str}", name="track_detail", dependencies=TRACKING_PHONE)
async def track_detail(
    request: Request[Any, Any, Any],
    number: FromPath[str],
    office: NamedDependency[OfficeRef],
    verified_phone: NamedDependency[str | None],
) -> Response[Any]:
    if verified_phone is None:
        return _lapsed(request)
    canonical = parse_request_number(number)
    tracked = (
        await request_for_phone(canonical, verified_phone, office=office) if canonical else None
    )
    if tracked is None:
        raise NotFoundException()
    return render(
        request,
        page="tracking/detail.html",
        partial="tracking/_detail.html",
        context={
            "tracked": tracked,
            "masked_phone": ThaiMobile(verified_phone).masked,
            "media": await media_for_phone(tracked.number, verified_phone, office=office),
        },
    )


@post("/track/sign-out", name="track_sign_out")
async def track_sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    forget_verified(request.session, TRACK.key)
    return go_to(request, "home")
