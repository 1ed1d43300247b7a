"""The OTP step, shared by filing a request and tracking one: same markup, different URLs."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from portal.otp.phone import ThaiMobile
from portal.otp.session_state import PendingCode
from portal.timeutil import utcnow
from portal.web.rendering import render


@dataclass(frozen=True)
class CodeStepLinks:
    step_label: str
    verify_url: str
    resend_url: str
    change_phone_url: str
    close_url: str
    step_label_en: str = ""


def render_code_step(
    request: Request[Any, Any, Any],
    pending: PendingCode,
    links: CodeStepLinks,
    *,
    error: str | None = None,
    tries_left: int | None = None,
    retry_after: int | None = None,
    status_code: int = 200,
) -> Template:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    wait = max(0, int((pending.resend_at - utcnow()).total_seconds() + 0.999))
    return render(
        request,
        page="components/otp.html",
        partial="components/_otp_form.html",
        context={
            **asdict(links),
            "masked_phone": ThaiMobile(pending.phone).masked,
            "resend_wait": wait,
            "error": error,
            "tries_left": tries_left,
            "retry_after": retry_after,
        },
        status_code=status_code,
        headers=headers,
    )
