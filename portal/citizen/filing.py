"""One press of "send": check the form, take its files, file it, or say why it comes back.

The handler (``form_routes.service_submit``) parses and renders; this decides. Every way the
form can come back (a mistake, a removed file, a renewed key, a used verification, the daily
limit) is one ``FormPage`` the handler renders the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.datastructures import FormMultiDict

from portal.attachments.config import AttachmentConfig
from portal.attachments.form_uploads import UploadState, current_uploads, receive_form_uploads
from portal.attachments.processing import UploadRejected
from portal.catalogue.fields import FieldError, FormResult, validate
from portal.catalogue.service import ServiceInfo
from portal.citizen.deps import CitizenConfig
from portal.citizen.drafts import draft_answers, save_draft
from portal.citizen.service import FiledRequest, FilingLimited, VerificationUsed, file_request
from portal.citizen.vouching import VouchedForm
from portal.kernel.clock import utcnow
from portal.kernel.offices import OfficeRef
from portal.otp.verifications import verification_is_open
from portal.otp.verified import Verification


@dataclass(frozen=True)
class FormPage:
    """The form as shown: the citizen's words, its key and files, and why it is shown."""

    result: FormResult
    submission_key: str
    uploads: UploadState
    status_code: int = 200
    notice: str = ""
    retry_after: int | None = None
    verification_used: bool = False
    """Filing found the verification consumed: the phone must be verified again."""


def text_answers(form: FormMultiDict) -> dict[str, str]:
    """The form's text inputs (files, which a form without JavaScript posts, are not answers)."""
    return {name: value for name, value in form.items() if isinstance(value, str)}


async def keep_draft(
    service: ServiceInfo,
    verification: Verification,
    browser: str,
    raw: Mapping[str, str],
    *,
    office: OfficeRef,
) -> bool:
    """Save what was typed as this browser's draft at ``office``, unless the verification
    filed already."""
    if not await verification_is_open(verification.challenge, verification.phone, office=office):
        return False
    await save_draft(
        office=office,
        verification=verification.challenge,
        service=service.id,
        phone=verification.phone,
        browser=browser,
        answers=draft_answers(service.fields, raw),
        now=utcnow(),
    )
    return True


async def attempt_filing(
    service: ServiceInfo,
    form: FormMultiDict,
    vouched: VouchedForm,
    *,
    browser: str,
    citizen: CitizenConfig,
    attachments: AttachmentConfig,
    office: OfficeRef,
) -> FiledRequest | FormPage:
    """The request filed at ``office``, or the form again. ``SubmissionKeyTaken`` passes
    through."""
    raw = text_answers(form)
    key, phone = vouched.key, vouched.verification.phone
    result = validate(service.fields, raw)
    if vouched.renewed:
        # Shown again with this browser's own key and the citizen's words: they check and send.
        uploads = await current_uploads(service.fields, key, phone, office=office)
        return FormPage(result, key, uploads, status_code=409, notice="form_key_renewed")
    uploads = await receive_form_uploads(
        attachments, service.fields, form, key=key, phone=phone, office=office
    )
    if uploads.error is not None:
        result.errors.append(uploads.error)
    if not result.ok or uploads.removed:
        # Also without JavaScript, a form sent with a mistake is kept: a reload restores it.
        await keep_draft(service, vouched.verification, browser, raw, office=office)
        return FormPage(result, key, uploads, status_code=200 if result.ok else 422)
    return await _file(service, vouched, result, uploads, citizen, office)


async def _file(
    service: ServiceInfo,
    vouched: VouchedForm,
    result: FormResult,
    uploads: UploadState,
    citizen: CitizenConfig,
    office: OfficeRef,
) -> FiledRequest | FormPage:
    key, verification = vouched.key, vouched.verification
    try:
        return await file_request(
            service=service,
            phone=verification.phone,
            answers=result.answers,
            submission_key=key,
            sms=citizen.sms.for_office(office),
            office=office,
            place=result.place,
            attachment_ids=uploads.referenced,
            verification=verification.challenge,
            daily_limit=citizen.filings_per_phone_day,
            vault=citizen.vault,
        )
    except UploadRejected as error:
        # A referenced upload vanished between the check and the filing: nothing was filed.
        if uploads.field is None:
            raise
        result.errors.append(FieldError(uploads.field, error.code))
        again = await current_uploads(service.fields, key, verification.phone, office=office)
        uploads.pending = again.pending
        return FormPage(result, key, uploads, status_code=422)
    # Nothing was filed in either refusal; the citizen's words stay on screen with the reason.
    except VerificationUsed:
        return FormPage(
            result,
            key,
            uploads,
            status_code=409,
            notice="verification_used",
            verification_used=True,
        )
    except FilingLimited as limited:
        return FormPage(
            result,
            key,
            uploads,
            status_code=429,
            notice="filings_per_day",
            retry_after=limited.retry_after_seconds,
        )
