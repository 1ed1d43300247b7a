"""Way 2 of the manual's step 6: prove the phone by OTP, then read that phone's requests."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.attachments.service import media_for_phone
from portal.citizen.deps import CitizenConfig
from portal.kernel.clock import utcnow
from portal.kernel.phone import PhoneError, ThaiMobile, parse_thai_mobile
from portal.kernel.request_numbers import parse_request_number
from portal.kernel.tracking_links import tracking_link
from portal.office.contact import OfficeContact
from portal.otp.service import (
    CheckOutcome,
    RateLimited,
    check_code,
    issue_code,
    spent_code_error,
)
from portal.otp.session_state import (
    PendingCode,
    browser_id,
    forget_verified,
    keep_verified,
    mark_verified,
    pending_code,
    set_pending_code,
    verified_phone,
)
from portal.sms.texts import render_sms
from portal.tables.otp_challenge import OtpPurpose
from portal.tracking.service import request_for_phone, requests_for_phone
from portal.web.code_step import CodeStepLinks, render_code_step
from portal.web.rendering import client_ip, go_to, render

TRACK = OtpPurpose.track
EXAMPLE_NUMBER = "69-000123"
EXAMPLE_LINK_ID = "Xk3vQ9pLm2Rt7Wz4Yb8Nc6"
"""Way 1's example SMS: made-up, shaped like the real ones (22 URL-safe characters)."""


def example_receipt_sms(link_base: str) -> str:
    """The receipt SMS as it goes out (its own template, the SMS link host), with an example
    number and link."""
    return render_sms(
        "receipt.txt", number=EXAMPLE_NUMBER, tracking_url=tracking_link(link_base, EXAMPLE_LINK_ID)
    )


def _lookup_step(
    request: Request[Any, Any, Any],
    citizen: CitizenConfig,
    *,
    phone: str = "",
    number: str = "",
    error: str | None = None,
    error_field: str = "phone",
    retry_after: int | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Template:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return render(
        request,
        page="tracking/lookup.html",
        partial="tracking/_lookup_form.html",
        context={
            "phone": phone,
            "number": number,
            "error": error,
            "error_field": error_field,
            "retry_after": retry_after,
            "notice": notice,
            "example_sms": example_receipt_sms(citizen.sms.link_base or citizen.base_url),
            "example_number": EXAMPLE_NUMBER,
        },
        status_code=status_code,
        headers=headers,
    )


def _code_step(
    request: Request[Any, Any, Any],
    pending: PendingCode,
    *,
    error: str | None = None,
    tries_left: int | None = None,
    retry_after: int | None = None,
    status_code: int = 200,
) -> Template:
    reverse = request.app.route_reverse
    links = CodeStepLinks(
        step_label="",
        verify_url=reverse("track_code_submit"),
        resend_url=reverse("track_code_resend"),
        change_phone_url=reverse("track_lookup"),
        close_url=reverse("home"),
    )
    return render_code_step(
        request,
        pending,
        links,
        error=error,
        tries_left=tries_left,
        retry_after=retry_after,
        status_code=status_code,
    )


def _tracking_phone(request: Request[Any, Any, Any], citizen: CitizenConfig) -> str | None:
    phone = verified_phone(request.session, TRACK, utcnow(), citizen.otp_policy.tracking_idle)
    if phone is not None:
        keep_verified(request.session, TRACK, utcnow())
    return phone


def _lapsed(request: Request[Any, Any, Any], citizen: CitizenConfig) -> Response[Any]:
    """Ask again, saying why when a session had been verified and went idle."""
    had_session = f"verified:{TRACK}" in request.session
    forget_verified(request.session, TRACK)
    return _lookup_step(request, citizen, notice="expired" if had_session else None)


@get("/track", name="track_lookup")
async def track_lookup(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Template:
    """The manual's step 6: both ways, way 2's phone step below way 1's example."""
    return _lookup_step(request, citizen)


async def _send_code(
    request: Request[Any, Any, Any], citizen: CitizenConfig, phone: str, next_step: str
) -> None:
    # Every valid Thai mobile gets a real code, whether or not it filed anything: the answers
    # are the same until the code is entered, and only the phone's holder learns what it filed
    # (an empty list says so honestly). Limits and the daily SMS budget apply as to any code.
    issued = await issue_code(
        phone=phone,
        purpose=TRACK,
        session_id=browser_id(request.session),
        client_ip=client_ip(request),
        key=citizen.otp_key,
        sms=citizen.sms,
        policy=citizen.otp_policy,
    )
    set_pending_code(
        request.session,
        TRACK,
        PendingCode(issued.challenge_id, phone, next_step, issued.resend_at, issued.expires_at),
    )


@post("/track", name="track_lookup_submit")
async def track_lookup_submit(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    form = await request.form()
    raw_phone = str(form.get("phone", ""))
    raw_number = str(form.get("number", "")).strip()
    number = parse_request_number(raw_number) if raw_number else ""
    if number is None:
        return _lookup_step(
            request,
            citizen,
            phone=raw_phone,
            number=raw_number,
            error="number_invalid",
            error_field="number",
            status_code=422,
        )
    try:
        mobile = parse_thai_mobile(raw_phone)
    except PhoneError as error:
        return _lookup_step(
            request, citizen, phone=raw_phone, number=raw_number, error=error.code, status_code=422
        )
    try:
        await _send_code(request, citizen, mobile.e164, number)
    except RateLimited as limit:
        return _lookup_step(
            request,
            citizen,
            phone=raw_phone,
            number=raw_number,
            error=f"limit_{limit.reason}",
            retry_after=limit.retry_after_seconds,
            status_code=429,
        )
    return go_to(request, "track_code_form")


@get("/track/verify", name="track_code_form")
async def track_code_form(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    pending = pending_code(request.session, TRACK)
    if pending is None:
        return go_to(request, "track_lookup")
    spent = await spent_code_error(pending.challenge_id, pending.phone, citizen.otp_policy)
    return _code_step(request, pending, error=spent)


@post("/track/verify", name="track_code_submit")
async def track_code_submit(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    pending = pending_code(request.session, TRACK)
    if pending is None:
        return _lookup_step(request, citizen, error="code_session_lost", status_code=422)
    form = await request.form()
    try:
        result = await check_code(
            challenge_id=pending.challenge_id,
            phone=pending.phone,
            purpose=TRACK,
            session_id=browser_id(request.session),
            code=str(form.get("code", "")),
            key=citizen.otp_key,
            policy=citizen.otp_policy,
        )
    except RateLimited as limit:
        return _code_step(
            request,
            pending,
            error=f"limit_{limit.reason}",
            retry_after=limit.retry_after_seconds,
            status_code=429,
        )
    if result.outcome is not CheckOutcome.passed:
        return _code_step(
            request,
            pending,
            error=f"code_{result.outcome.value}",
            tries_left=result.tries_left,
            status_code=422,
        )
    mark_verified(request.session, TRACK, pending.phone, utcnow())
    # A mistyped or someone else's number lands on the phone's own list, never on a 404 that
    # would tell the two apart.
    if pending.next_step and await request_for_phone(pending.next_step, pending.phone):
        return go_to(request, "track_detail", number=pending.next_step)
    return go_to(request, "track_list")


@post("/track/resend", name="track_code_resend")
async def track_code_resend(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    pending = pending_code(request.session, TRACK)
    if pending is None:
        return go_to(request, "track_lookup")
    try:
        await _send_code(request, citizen, pending.phone, pending.next_step)
    except RateLimited as limit:
        return _code_step(
            request,
            pending,
            error=f"limit_{limit.reason}",
            retry_after=limit.retry_after_seconds,
            status_code=429,
        )
    return go_to(request, "track_code_form")


@get("/track/requests", name="track_list")
async def track_list(
    request: Request[Any, Any, Any], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    phone = _tracking_phone(request, citizen)
    if phone is None:
        return _lapsed(request, citizen)
    return render(
        request,
        page="tracking/list.html",
        partial="tracking/_list.html",
        context={
            "requests": await requests_for_phone(phone),
            "masked_phone": ThaiMobile(phone).masked,
            # A phone with nothing filed is told so, with how to reach the office (only its
            # holder gets here: the code proved the phone).
            "office_contact": OfficeContact.from_settings(request.app.state["settings"]),
        },
    )


@get("/track/requests/{number:str}", name="track_detail")
async def track_detail(
    request: Request[Any, Any, Any], number: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    phone = _tracking_phone(request, citizen)
    if phone is None:
        return _lapsed(request, citizen)
    canonical = parse_request_number(number)
    tracked = await request_for_phone(canonical, phone) if canonical else None
    if tracked is None:
        raise NotFoundException()
    return render(
        request,
        page="tracking/detail.html",
        partial="tracking/_detail.html",
        context={
            "tracked": tracked,
            "masked_phone": ThaiMobile(phone).masked,
            "media": await media_for_phone(tracked.number, phone),
        },
    )


@post("/track/sign-out", name="track_sign_out")
async def track_sign_out(request: Request[Any, Any, Any]) -> Response[Any]:
    forget_verified(request.session, TRACK)
    return go_to(request, "home")
