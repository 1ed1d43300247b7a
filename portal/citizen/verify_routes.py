"""The phone modal and the OTP modal (manual steps 3 and 4)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from portal.catalogue.service import ServiceInfo, get_active_service
from portal.citizen.deps import CitizenConfig
from portal.kernel.clock import utcnow
from portal.kernel.phone import PhoneError, ThaiMobile, parse_thai_mobile
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
    last_verified_phone,
    mark_verified,
    pending_code,
    set_pending_code,
)
from portal.tables.otp_challenge import OtpPurpose
from portal.web.code_step import CodeStepLinks, render_code_step
from portal.web.rendering import client_ip, go_to, render, step_target, wants_partial

SUBMIT = OtpPurpose.submit


async def _service_or_404(slug: FromPath[str]) -> ServiceInfo:
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    return service


def _phone_step(
    request: Request[Any, Any, Any],
    service: ServiceInfo,
    *,
    phone: str = "",
    error: str | None = None,
    retry_after: int | None = None,
    notice: str | None = None,
    status_code: int = 200,
    resume: bool = False,
) -> Template:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return render(
        request,
        page="citizen/phone.html",
        partial="citizen/_phone_form.html",
        context={
            "service": service,
            "phone": phone,
            "error": error,
            "retry_after": retry_after,
            "notice": notice,
            "resume": resume,
        },
        status_code=status_code,
        headers=headers,
    )


def _code_step(
    request: Request[Any, Any, Any],
    service: ServiceInfo,
    pending: PendingCode,
    *,
    error: str | None = None,
    tries_left: int | None = None,
    retry_after: int | None = None,
    status_code: int = 200,
) -> Template:
    reverse = request.app.route_reverse
    return render_code_step(
        request,
        pending,
        CodeStepLinks(
            step_label=service.name,
            verify_url=reverse("code_submit", slug=service.slug),
            resend_url=reverse("code_resend", slug=service.slug),
            change_phone_url=reverse("phone_form", slug=service.slug),
            close_url=reverse("menu"),
            step_label_en=service.name_en,
        ),
        error=error,
        tries_left=tries_left,
        retry_after=retry_after,
        status_code=status_code,
    )


def _code_step_at_limit(
    request: Request[Any, Any, Any], service: ServiceInfo, pending: PendingCode, limit: RateLimited
) -> Template:
    return _code_step(
        request,
        service,
        pending,
        error=f"limit_{limit.reason}",
        retry_after=limit.retry_after_seconds,
        status_code=429,
    )


RESUME = "resume:submit"
"""Set while the phone is verified again over a form that is still open (its words on
screen, its verification used): once the code passes, the dialog closes onto that form."""


@get("/e-service/{slug:str}/phone", name="phone_form")
async def phone_form(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    again: FromQuery[str] = "",
    resume: FromQuery[str] = "",
) -> Template:
    """Always the phone step (it is also the "change number" link); ``again`` says why."""
    return _phone_step(
        request,
        await _service_or_404(slug),
        phone=_known_phone(request),
        notice="again" if again else None,
        resume=bool(resume),
    )


def _known_phone(request: Request[Any, Any, Any]) -> str:
    """The number this browser last typed (to correct it) or verified (a second request in
    the same visit needs a new code, not retyping): from the session, never from the URL."""
    pending = pending_code(request.session, SUBMIT)
    phone = pending.phone if pending is not None else last_verified_phone(request.session, SUBMIT)
    return ThaiMobile(phone).national if phone and phone.startswith("+66") else ""


async def _send_code(
    request: Request[Any, Any, Any],
    citizen: NamedDependency[CitizenConfig],
    service: ServiceInfo,
    phone: str,
) -> PendingCode:
    issued = await issue_code(
        phone=phone,
        purpose=OtpPurpose.submit,
        session_id=browser_id(request.session),
        client_ip=client_ip(request),
        key=citizen.otp_key,
        sms=citizen.sms,
        policy=citizen.otp_policy,
    )
    pending = PendingCode(
        issued.challenge_id, phone, service.slug, issued.resend_at, issued.expires_at
    )
    set_pending_code(request.session, SUBMIT, pending)
    return pending


@post("/e-service/{slug:str}/phone", name="phone_submit")
async def phone_submit(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await _service_or_404(slug)
    form = await request.form()
    raw = str(form.get("phone", ""))
    resume = bool(form.get("resume"))
    if resume:
        request.session[RESUME] = slug
    else:
        request.session.pop(RESUME, None)
    try:
        mobile = parse_thai_mobile(raw)
    except PhoneError as error:
        return _phone_step(
            request, service, phone=raw, error=error.code, status_code=422, resume=resume
        )
    try:
        await _send_code(request, citizen, service, mobile.e164)
    except RateLimited as limit:
        pending = pending_code(request.session, SUBMIT)
        if (
            limit.reason == "resend_too_soon"
            and pending is not None
            and pending.phone == mobile.e164
            and pending.is_live(utcnow())
        ):
            # The citizen closed the dialog or refreshed while the SMS was on its way: take
            # them back to the code they already have instead of a dead end.
            return go_to(request, "code_form", slug=slug, target=step_target(request))
        return _phone_step(
            request,
            service,
            phone=raw,
            error=f"limit_{limit.reason}",
            retry_after=limit.retry_after_seconds,
            status_code=429,
            resume=resume,
        )
    return go_to(request, "code_form", slug=slug, target=step_target(request))


@get("/e-service/{slug:str}/verify", name="code_form")
async def code_form(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await _service_or_404(slug)
    pending = pending_code(request.session, SUBMIT)
    if pending is None:
        return go_to(request, "phone_form", slug=slug, target=step_target(request))
    spent = await spent_code_error(pending.challenge_id, pending.phone, citizen.otp_policy)
    return _code_step(request, service, pending, error=spent)


@post("/e-service/{slug:str}/verify", name="code_submit")
async def code_submit(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await _service_or_404(slug)
    pending = pending_code(request.session, SUBMIT)
    if pending is None:
        return _phone_step(request, service, error="code_session_lost", status_code=422)
    form = await request.form()
    try:
        result = await check_code(
            challenge_id=pending.challenge_id,
            phone=pending.phone,
            purpose=OtpPurpose.submit,
            session_id=browser_id(request.session),
            code=str(form.get("code", "")),
            key=citizen.otp_key,
            policy=citizen.otp_policy,
        )
    except RateLimited as limit:
        return _code_step_at_limit(request, service, pending, limit)
    if result.outcome is CheckOutcome.passed:
        # The passed code is the verification: the one filing it allows consumes its row.
        mark_verified(request.session, SUBMIT, pending.phone, utcnow(), pending.challenge_id)
        if request.session.pop(RESUME, None) == slug and wants_partial(request):
            # The open form keeps the citizen's words: close the dialog onto it.
            return Template(
                template_name="citizen/_verified_again.html", context={"service": service}
            )
        return go_to(request, "service_form", slug=slug)
    return _code_step(
        request,
        service,
        pending,
        error=f"code_{result.outcome.value}",
        tries_left=result.tries_left,
        status_code=422,
    )


@post("/e-service/{slug:str}/resend", name="code_resend")
async def code_resend(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await _service_or_404(slug)
    pending = pending_code(request.session, SUBMIT)
    if pending is None:
        return go_to(request, "phone_form", slug=slug, target=step_target(request))
    try:
        await _send_code(request, citizen, service, pending.phone)
    except RateLimited as limit:
        return _code_step_at_limit(request, service, pending, limit)
    return go_to(request, "code_form", slug=slug, target=step_target(request))
