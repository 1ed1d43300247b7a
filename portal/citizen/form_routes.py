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
from portal.attachments.form_uploads import current_uploads
from portal.catalogue.fields import FormResult
from portal.catalogue.service import ServiceInfo, get_active_service
from portal.citizen.deps import CitizenConfig
from portal.citizen.drafts import DRAFT_MAX_BYTES, load_draft
from portal.citizen.filing import FormPage, attempt_filing, keep_draft, text_answers
from portal.citizen.service import SubmissionKeyTaken, get_filed_request
from portal.citizen.vouching import vouch_form
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.otp.config import OtpConfig
from portal.otp.purposes import SUBMIT
from portal.otp.session_state import (
    browser_id,
    expire_verified,
    filed_here,
    keep_verified,
    remember_submitted,
)
from portal.otp.verified import (
    current_phone,
    new_form_key,
    open_verification,
    vouched_by_form_key,
)
from portal.sms.budget import receipt_waits
from portal.web.rendering import go_to, render, step_target


async def _active_service(slug: str, office: OfficeRef) -> ServiceInfo:
    """The office's service, else the same 404 for a missing slug and another office's."""
    service = await get_active_service(slug, office=office)
    if service is None:
        raise NotFoundException()
    return service


def _form_step(
    request: Request[Any, Any, Any], service: ServiceInfo, phone: str, page: FormPage
) -> Template:
    """The form, as opened and whenever it comes back: the one place it is drawn."""
    headers = {"Retry-After": str(page.retry_after)} if page.retry_after else None
    return render(
        request,
        page="citizen/form.html",
        partial="citizen/_form.html",
        context={
            "service": service,
            "masked_phone": ThaiMobile(phone).masked,
            "result": page.result,
            "submission_key": page.submission_key,
            "uploads": page.uploads,
            "notice": page.notice,
            "retry_after": page.retry_after,
        },
        status_code=page.status_code,
        headers=headers,
    )


def _phone_again(request: Request[Any, Any, Any], slug: str) -> Response[Any]:
    return go_to(request, "phone_form", slug=slug, target=step_target(request), query="again=1")


@get("/e-service/{slug:str}/form", name="service_form")
async def service_form(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    otp: NamedDependency[OtpConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    service = await _active_service(slug, office)
    verification = await open_verification(request.session, SUBMIT, otp.policy, office=office)
    if verification is None:
        return go_to(request, "phone_form", slug=slug, target=step_target(request))
    keep_verified(request.session, SUBMIT.key, utcnow())
    key = new_form_key(request.session, citizen.form_key, verification, office=office)
    uploads = await current_uploads(service.fields, key, verification.phone, office=office)
    # A reload (or a form opened again after a dropped connection) keeps what was typed.
    draft = await load_draft(
        office=office,
        verification=verification.challenge,
        service=service.id,
        phone=verification.phone,
        browser=browser_id(request.session),
        now=utcnow(),
    )
    notice = "draft_restored" if draft else ""
    page = FormPage(FormResult(values=draft), key, uploads, notice=notice)
    return _form_step(request, service, verification.phone, page)


@post(
    "/e-service/{slug:str}/form/draft",
    name="service_form_draft",
    request_max_body_size=DRAFT_MAX_BYTES,
    status_code=204,
)
async def service_form_draft(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    otp: NamedDependency[OtpConfig],
    office: NamedDependency[OfficeRef],
) -> Response[None]:
    """Keep what is typed so far (htmx, a moment after typing stops): 204, or the same 404
    for an unknown service and for a key that is not this browser's, this phone's and of a
    verification that has not filed yet. Only the size is checked, never completeness."""
    service = await _active_service(slug, office)
    raw = text_answers(await request.form())
    key = raw.get("submission_key", "")
    vouched = vouched_by_form_key(request.session, citizen.form_key, key, SUBMIT, office=office)
    if vouched is None:
        raise NotFoundException()
    if not await keep_draft(service, vouched, browser_id(request.session), raw, office=office):
        raise NotFoundException()
    if current_phone(request.session, SUBMIT, otp.policy, office=office) == vouched.phone:
        keep_verified(request.session, SUBMIT.key, utcnow())  # typing is working, not idling
    return Response(content=None, status_code=204)


@post(
    "/e-service/{slug:str}/form",
    name="service_submit",
    request_max_body_size=FORM_WITH_FILES_MAX_BODY,
)
async def service_submit(
    request: Request[Any, Any, Any],
    slug: FromPath[str],
    citizen: NamedDependency[CitizenConfig],
    otp: NamedDependency[OtpConfig],
    attachments: NamedDependency[AttachmentConfig],
    office: NamedDependency[OfficeRef],
) -> Response[Any]:
    refuse_large_text_form(request)
    service = await _active_service(slug, office)
    form = await request.form()
    key = text_answers(form).get("submission_key", "")
    vouched = await vouch_form(request, citizen, otp.policy, key, office=office)
    if vouched is None:
        return _phone_again(request, slug)
    try:
        outcome = await attempt_filing(
            service,
            form,
            vouched,
            browser=browser_id(request.session),
            citizen=citizen,
            attachments=attachments,
            office=office,
        )
    except SubmissionKeyTaken:
        return _phone_again(request, slug)
    if isinstance(outcome, FormPage):
        if outcome.verification_used:
            expire_verified(request.session, SUBMIT.key)
        return _form_step(request, service, vouched.verification.phone, outcome)
    remember_submitted(request.session, outcome.number, outcome.tracking_token)
    # A new request asks for the phone again (a shared phone or kiosk must not file under
    # the last citizen's number; the verification is consumed); this form's key still
    # answers a double click with this request.
    expire_verified(request.session, SUBMIT.key)
    return go_to(request, "submitted", number=outcome.number)


@get("/e-service/requests/{number:str}", name="submitted")
async def submitted(
    request: Request[Any, Any, Any], number: FromPath[str], office: NamedDependency[OfficeRef]
) -> Template:
    """Only the browser that filed the request, and only at its office, sees this page;
    others get the same 404."""
    if not filed_here(request.session, number):
        raise NotFoundException()
    filed = await get_filed_request(number, office=office)
    if filed is None or not filed_here(request.session, number, filed.tracking_token):
        # Also after staff moved the request to a new phone: its link was replaced, and the
        # browser that filed it (perhaps the old phone's) must not be handed the new one.
        raise NotFoundException()
    return render(
        request,
        page="citizen/success.html",
        partial="citizen/_success.html",
        context={
            "filed": filed,
            "masked_phone": ThaiMobile(filed.phone).masked,
            "sms_later": await receipt_waits(filed.id, office=office),
        },
    )
