"""The service's form and the success page (manual step 5)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.attachments.config import (
    FORM_WITH_FILES_MAX_BODY,
    AttachmentConfig,
    refuse_large_text_form,
)
from portal.attachments.form_uploads import UploadState, current_uploads, receive_form_uploads
from portal.attachments.processing import UploadRejected
from portal.catalogue.fields import FieldError, FormResult, validate
from portal.catalogue.service import ServiceInfo, get_active_service
from portal.citizen.deps import CitizenConfig
from portal.citizen.form_keys import form_key_vouches, is_form_key, issue_form_key
from portal.citizen.service import SubmissionKeyTaken, file_request, get_filed_request
from portal.otp.phone import ThaiMobile
from portal.otp.session_state import (
    browser_id,
    expire_verified,
    filed_here,
    keep_verified,
    last_verified_phone,
    remember_submitted,
    verified_phone,
)
from portal.tables.otp_challenge import OtpPurpose
from portal.timeutil import utcnow
from portal.web.rendering import go_to, render, step_target

SUBMIT = OtpPurpose.submit


def _form_step(
    request: Request[Any, Any, Any],
    service: ServiceInfo,
    phone: str,
    *,
    submission_key: str,
    uploads: UploadState,
    result: FormResult | None = None,
    status_code: int = 200,
    notice: str = "",
) -> Template:
    return render(
        request,
        page="citizen/form.html",
        partial="citizen/_form.html",
        context={
            "service": service,
            "masked_phone": ThaiMobile(phone).masked,
            "result": result or FormResult(),
            "submission_key": submission_key,
            "uploads": uploads,
            "notice": notice,
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
    now = utcnow()
    phone = verified_phone(request.session, SUBMIT, now, citizen.otp_policy.verified_for)
    if phone is None:
        return go_to(request, "phone_form", slug=slug, target=step_target(request))
    keep_verified(request.session, SUBMIT, now)
    key = issue_form_key(
        citizen.form_key, browser=browser_id(request.session), phone=phone, now=now
    )
    uploads = await current_uploads(service.fields, key, phone)
    return _form_step(request, service, phone, submission_key=key, uploads=uploads)


def submitting_phone(
    request: Request[Any, Any, Any], citizen: CitizenConfig, key: str
) -> str | None:
    """The verified phone, or the one the form's key vouches for after the window lapsed."""
    now = utcnow()
    phone = verified_phone(request.session, SUBMIT, now, citizen.otp_policy.verified_for)
    if phone is not None:
        return phone
    remembered = last_verified_phone(request.session, SUBMIT)
    if remembered and form_key_vouches(
        citizen.form_key, key, browser=browser_id(request.session), phone=remembered, now=now
    ):
        return remembered
    return None


@post(
    "/e-service/{slug:str}/form",
    name="service_submit",
    request_max_body_size=FORM_WITH_FILES_MAX_BODY,
)
async def service_submit(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    attachments: NamedDependency[AttachmentConfig],
) -> Response[Any]:
    refuse_large_text_form(request)
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    form = await request.form()
    # Files (a form without JavaScript posts them here) are not text answers.
    raw = {name: value for name, value in form.items() if isinstance(value, str)}
    key = raw.get("submission_key", "")
    phone = submitting_phone(request, citizen, key) if is_form_key(key) else None
    foreign_key = False
    if phone is not None and not form_key_vouches(
        citizen.form_key, key, browser=browser_id(request.session), phone=phone, now=utcnow()
    ):
        # A key issued to another browser or phone (copied, or this browser verified another
        # number since): filing with it would take that form's key from its citizen.
        phone, foreign_key = None, True
    if phone is None:
        phone = verified_phone(request.session, SUBMIT, utcnow(), citizen.otp_policy.verified_for)
        if phone is None:
            return go_to(
                request, "phone_form", slug=slug, target=step_target(request), query="again=1"
            )
        # A form without a valid key (an old page, a hand-made POST): give it one now.
        key = issue_form_key(
            citizen.form_key, browser=browser_id(request.session), phone=phone, now=utcnow()
        )
    result = validate(service.fields, raw)
    if foreign_key:
        # Shown again with this browser's own key and the citizen's words: they check and send.
        return _form_step(
            request,
            service,
            phone,
            result=result,
            submission_key=key,
            uploads=await current_uploads(service.fields, key, phone),
            status_code=409,
            notice="form_key_renewed",
        )
    uploads = await receive_form_uploads(attachments, service.fields, form, key=key, phone=phone)
    if uploads.error is not None:
        result.errors.append(uploads.error)
    if not result.ok or uploads.removed:
        return _form_step(
            request,
            service,
            phone,
            result=result,
            submission_key=key,
            uploads=uploads,
            status_code=200 if result.ok else 422,
        )
    try:
        filed = await file_request(
            service=service,
            phone=phone,
            answers=result.answers,
            submission_key=key,
            base_url=citizen.base_url,
            sms=citizen.sms,
            place=result.place,
            attachment_ids=uploads.referenced,
        )
    except UploadRejected as error:
        # A referenced upload vanished between the check and the filing: nothing was filed.
        if uploads.field is None:
            raise
        result.errors.append(FieldError(uploads.field, error.code))
        uploads.pending = (await current_uploads(service.fields, key, phone)).pending
        return _form_step(
            request,
            service,
            phone,
            result=result,
            submission_key=key,
            uploads=uploads,
            status_code=422,
        )
    except SubmissionKeyTaken:
        return go_to(request, "phone_form", slug=slug, target=step_target(request), query="again=1")
    remember_submitted(request.session, filed.number)
    # A new request asks for the phone again (a shared phone or kiosk must not file under
    # the last citizen's number); this form's key still answers a double click.
    expire_verified(request.session, SUBMIT)
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
