"""The phone modal and the OTP modal (manual steps 3 and 4): the OTP step of ``portal.otp``
for filing, opened from a service's card and leading to its form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from portal.catalogue.service import ServiceInfo, get_active_service
from portal.kernel.offices import OfficeRef
from portal.kernel.phone import ThaiMobile
from portal.otp.purposes import SUBMIT
from portal.otp.session_state import (
    PendingCode,
    last_verified_phone,
    pending_code,
    set_resume,
    take_resume,
)
from portal.otp.step_router import OtpStep, PhoneStepView, StepRoutes, otp_step_router
from portal.web.offices import office_of
from portal.web.rendering import go_to, render, wants_partial


async def _service_or_404(slug: FromPath[str], office: NamedDependency[OfficeRef]) -> ServiceInfo:
    """The office's service; another office's slug is the same 404 as a missing one."""
    service = await get_active_service(slug, office=office)
    if service is None:
        raise NotFoundException()
    return service


def _phone_step(
    request: Request[Any, Any, Any], service: ServiceInfo, view: PhoneStepView
) -> Template:
    return render(
        request,
        page="citizen/phone.html",
        partial="citizen/_phone_form.html",
        context={
            "service": service,
            "phone": view.phone,
            "error": view.error,
            "retry_after": view.retry_after,
            "notice": view.notice,
            "resume": bool(view.fields.get("resume")),
        },
        status_code=view.status_code,
        headers=view.headers,
    )


def _opened(request: Request[Any, Any, Any], service: ServiceInfo) -> PhoneStepView:
    """Always the phone step (it is also the "change number" link); ``again`` says why."""
    query = request.query_params
    return PhoneStepView(
        phone=_known_phone(request),
        notice="again" if query.get("again") else None,
        fields={"resume": "1"} if query.get("resume") else {},
    )


def _known_phone(request: Request[Any, Any, Any]) -> str:
    """The number this browser last typed (to correct it) or verified (a second request in
    the same visit needs a new code, not retyping): from the session, never from the URL."""
    office = office_of(request)
    pending = pending_code(request.session, SUBMIT.key, office=office)
    phone = (
        pending.phone
        if pending is not None
        else last_verified_phone(request.session, SUBMIT.key, office=office)
    )
    return ThaiMobile(phone).national if phone and phone.startswith("+66") else ""


def _for_service(
    request: Request[Any, Any, Any], service: ServiceInfo, fields: Mapping[str, str]
) -> str:
    """A code for this service; with ``resume`` the phone is verified again over a form that
    is still open (its words on screen, its verification used)."""
    set_resume(request.session, SUBMIT.key, service.slug if fields.get("resume") else None)
    return service.slug


async def _open_form(
    request: Request[Any, Any, Any], service: ServiceInfo, pending: PendingCode
) -> Response[Any]:
    if take_resume(request.session, SUBMIT.key) == service.slug and wants_partial(request):
        # The open form keeps the citizen's words: close the dialog onto it.
        return Template(template_name="citizen/_verified_again.html", context={"service": service})
    return go_to(request, "service_form", slug=service.slug)


FILING_STEP = OtpStep(
    purpose=SUBMIT,
    routes=StepRoutes(
        phone_path="/e-service/{slug:str}/phone",
        verify_path="/e-service/{slug:str}/verify",
        resend_path="/e-service/{slug:str}/resend",
        phone_form="phone_form",
        phone_submit="phone_submit",
        code_form="code_form",
        code_submit="code_submit",
        code_resend="code_resend",
        close="menu",
    ),
    context=_service_or_404,
    phone_page=_phone_step,
    on_verified=_open_form,
    form_fields=("resume",),
    next_step=_for_service,
    resend_next_step=lambda service, pending: service.slug,
    prefill=_opened,
    url_params=lambda service: {"slug": service.slug},
    labels=lambda service: (service.name, service.name_en),
    in_dialog=True,
    back_to_live_code=True,
)

router = otp_step_router(FILING_STEP)
