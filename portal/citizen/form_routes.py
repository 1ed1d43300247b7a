"""The service's form and the success page (manual step 5)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.catalogue.fields import FormResult, validate
from portal.catalogue.service import ServiceInfo, get_active_service
from portal.citizen.deps import CitizenConfig
from portal.citizen.service import (
    SubmissionKeyTaken,
    file_request,
    get_filed_request,
    new_submission_key,
)
from portal.otp.phone import ThaiMobile
from portal.otp.session_state import (
    filed_here,
    keep_verified,
    remember_submitted,
    verified_phone,
)
from portal.tables.otp_challenge import OtpPurpose
from portal.timeutil import utcnow
from portal.web.rendering import DIALOG, go_to, render

SUBMISSION_KEY_LENGTH = 32

SUBMIT = OtpPurpose.submit


def _form_step(
    request: Request[Any, Any, Any],
    service: ServiceInfo,
    phone: str,
    *,
    result: FormResult | None = None,
    submission_key: str | None = None,
    status_code: int = 200,
) -> Template:
    return render(
        request,
        page="citizen/form.html",
        partial="citizen/_form.html",
        context={
            "service": service,
            "masked_phone": ThaiMobile(phone).masked,
            "result": result or FormResult(),
            "submission_key": submission_key or new_submission_key(),
        },
        status_code=status_code,
    )


@get("/e-service/{slug:str}/form", name="service_form")
async def service_form(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    phone = verified_phone(request.session, SUBMIT, utcnow(), citizen.otp_policy.verified_for)
    if phone is None:
        return go_to(request, "phone_form", slug=slug, target=DIALOG)
    keep_verified(request.session, SUBMIT, utcnow())
    return _form_step(request, service, phone)


@post("/e-service/{slug:str}/form", name="service_submit")
async def service_submit(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    phone = verified_phone(request.session, SUBMIT, utcnow(), citizen.otp_policy.verified_for)
    if phone is None:
        # The verification lapsed while the citizen typed; their words are in the browser's
        # back history, and the phone step says why it is asked again.
        return go_to(request, "phone_form", slug=slug, target=DIALOG)
    form = await request.form()
    raw = {key: str(value) for key, value in form.items()}
    key = raw.get("submission_key", "")
    if not key or len(key) > SUBMISSION_KEY_LENGTH * 2:
        key = new_submission_key()
    result = validate(service.fields, raw)
    keep_verified(request.session, SUBMIT, utcnow())
    if not result.ok:
        return _form_step(
            request, service, phone, result=result, submission_key=key, status_code=422
        )
    try:
        filed = await file_request(
            service=service,
            phone=phone,
            answers=result.values,
            submission_key=key,
            base_url=citizen.base_url,
            sms=citizen.sms,
        )
    except SubmissionKeyTaken:
        return _form_step(request, service, phone, result=result, status_code=409)
    remember_submitted(request.session, filed.number)
    return go_to(request, "submitted", number=filed.number)


@get("/e-service/requests/{number:str}", name="submitted")
async def submitted(request: Request[Any, Any, Any], number: FromPath[str]) -> Template:
    """Only the browser that filed the request sees this page; others get the same 404."""
    if not filed_here(request.session, number):
        raise NotFoundException()
    filed = await get_filed_request(number)
    if filed is None:
        raise NotFoundException()
    return render(
        request,
        page="citizen/success.html",
        partial="citizen/_success.html",
        context={"filed": filed, "masked_phone": ThaiMobile(filed.phone).masked},
    )
