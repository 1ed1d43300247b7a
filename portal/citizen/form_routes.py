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
from portal.citizen.drafts import (
    DRAFT_MAX_BYTES,
    draft_answers,
    load_draft,
    save_draft,
)
from portal.citizen.form_keys import form_key_verification, is_form_key, issue_form_key
from portal.citizen.service import (
    FilingLimited,
    SubmissionKeyTaken,
    VerificationUsed,
    carry_uploads,
    file_request,
    get_filed_request,
)
from portal.kernel.clock import utcnow
from portal.kernel.phone import ThaiMobile
from portal.otp.service import verification_is_open
from portal.otp.session_state import (
    browser_id,
    expire_verified,
    filed_here,
    keep_verified,
    last_verified_phone,
    remember_submitted,
    verified_challenge,
    verified_phone,
)
from portal.sms.budget import receipt_waits
from portal.tables.otp_challenge import OtpPurpose
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
    retry_after: int | None = None,
) -> Template:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
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
            "retry_after": retry_after,
        },
        status_code=status_code,
        headers=headers,
    )


async def open_verification(request: Request[Any, Any, Any], citizen: CitizenConfig) -> int | None:
    """The verification a new form key may be issued under: this browser's, within its window,
    and not consumed by a filing (checked on the server: the session is a client cookie)."""
    phone = verified_phone(request.session, SUBMIT, utcnow(), citizen.otp_policy.verified_for)
    verification = verified_challenge(request.session, SUBMIT)
    if phone is None or verification is None:
        return None
    if not await verification_is_open(verification, phone):
        expire_verified(request.session, SUBMIT)
        return None
    return verification


def _new_key(
    request: Request[Any, Any, Any], citizen: CitizenConfig, phone: str, verification: int
) -> str:
    return issue_form_key(
        citizen.form_key,
        browser=browser_id(request.session),
        phone=phone,
        verification=verification,
        now=utcnow(),
    )


@get("/e-service/{slug:str}/form", name="service_form")
async def service_form(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[Any]:
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    verification = await open_verification(request, citizen)
    phone = last_verified_phone(request.session, SUBMIT)
    if verification is None or phone is None:
        return go_to(request, "phone_form", slug=slug, target=step_target(request))
    keep_verified(request.session, SUBMIT, utcnow())
    key = _new_key(request, citizen, phone, verification)
    uploads = await current_uploads(service.fields, key, phone)
    # A reload (or a form opened again after a dropped connection) keeps what was typed.
    draft = await load_draft(
        verification=verification,
        service=service.id,
        phone=phone,
        browser=browser_id(request.session),
        now=utcnow(),
    )
    return _form_step(
        request,
        service,
        phone,
        submission_key=key,
        uploads=uploads,
        result=FormResult(values=draft),
        notice="draft_restored" if draft else "",
    )


async def _keep_draft(
    request: Request[Any, Any, Any],
    service: ServiceInfo,
    phone: str,
    verification: int,
    raw: dict[str, str],
) -> bool:
    """Save what was typed as this browser's draft, unless the verification filed already."""
    if not await verification_is_open(verification, phone):
        return False
    await save_draft(
        verification=verification,
        service=service.id,
        phone=phone,
        browser=browser_id(request.session),
        answers=draft_answers(service.fields, raw),
        now=utcnow(),
    )
    return True


@post(
    "/e-service/{slug:str}/form/draft",
    name="service_form_draft",
    request_max_body_size=DRAFT_MAX_BYTES,
    status_code=204,
)
async def service_form_draft(
    request: Request[Any, Any, Any], slug: FromPath[str], citizen: NamedDependency[CitizenConfig]
) -> Response[None]:
    """Keep what is typed so far (htmx, a moment after typing stops): 204, or the same 404
    for an unknown service and for a key that is not this browser's, this phone's and of a
    verification that has not filed yet. Only the size is checked, never completeness."""
    service = await get_active_service(slug)
    if service is None:
        raise NotFoundException()
    form = await request.form()
    raw = {name: value for name, value in form.items() if isinstance(value, str)}
    vouched = vouched_filing(request, citizen, raw.get("submission_key", ""))
    if vouched is None:
        raise NotFoundException()
    phone, verification = vouched
    if not await _keep_draft(request, service, phone, verification, raw):
        raise NotFoundException()
    now = utcnow()
    if verified_phone(request.session, SUBMIT, now, citizen.otp_policy.verified_for) == phone:
        keep_verified(request.session, SUBMIT, now)  # typing is working, not idling
    return Response(content=None, status_code=204)


def vouched_filing(
    request: Request[Any, Any, Any], citizen: CitizenConfig, key: str
) -> tuple[str, int] | None:
    """(phone, verification) the form's key vouches for: issued to this very browser for the
    phone it verified, recently (so a citizen typing past the verified window keeps going)."""
    remembered = last_verified_phone(request.session, SUBMIT)
    if not remembered or not is_form_key(key):
        return None
    verification = form_key_verification(
        citizen.form_key, key, browser=browser_id(request.session), phone=remembered, now=utcnow()
    )
    return (remembered, verification) if verification is not None else None


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
    vouched = vouched_filing(request, citizen, key)
    renewed = False
    if vouched is not None:
        phone, verification = vouched
    else:
        # No key of this browser's verification: an old page, a hand-made POST, or a key issued
        # to another browser or phone (copied, or this browser verified again since; filing
        # with it would take that form's key from its citizen). A new key is issued under this
        # browser's open verification, if there is one.
        current = await open_verification(request, citizen)
        phone = last_verified_phone(request.session, SUBMIT) or ""
        if current is None or not phone:
            return go_to(
                request, "phone_form", slug=slug, target=step_target(request), query="again=1"
            )
        old_key, verification = key, current
        key = _new_key(request, citizen, phone, verification)
        if is_form_key(old_key):
            # Shown again to check and send; the form's files come along (same phone only).
            await carry_uploads(from_key=old_key, to_key=key, phone=phone)
            renewed = True
    result = validate(service.fields, raw)
    if renewed:
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
        # Also without JavaScript, a form sent with a mistake is kept: a reload restores it.
        await _keep_draft(request, service, phone, verification, raw)
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
            verification=verification,
            daily_limit=citizen.filings_per_phone_day,
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
    except (VerificationUsed, FilingLimited) as refused:
        # Nothing was filed; the citizen's words stay on screen with the reason.
        limited = isinstance(refused, FilingLimited)
        if not limited:
            expire_verified(request.session, SUBMIT)
        return _form_step(
            request,
            service,
            phone,
            result=result,
            submission_key=key,
            uploads=uploads,
            status_code=429 if limited else 409,
            notice="filings_per_day" if limited else "verification_used",
            retry_after=refused.retry_after_seconds if isinstance(refused, FilingLimited) else None,
        )
    remember_submitted(request.session, filed.number, filed.tracking_token)
    # A new request asks for the phone again (a shared phone or kiosk must not file under
    # the last citizen's number; the verification is consumed); this form's key still
    # answers a double click with this request.
    expire_verified(request.session, SUBMIT)
    return go_to(request, "submitted", number=filed.number)


@get("/e-service/requests/{number:str}", name="submitted")
async def submitted(request: Request[Any, Any, Any], number: FromPath[str]) -> Template:
    """Only the browser that filed the request sees this page; others get the same 404."""
    if not filed_here(request.session, number):
        raise NotFoundException()
    filed = await get_filed_request(number)
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
            "sms_later": await receipt_waits(
                filed.id, request.app.state["settings"].sms_daily_budget
            ),
        },
    )
