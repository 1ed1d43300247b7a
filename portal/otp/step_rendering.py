"""The code step's page, the same for every purpose: only its links and its label differ."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from litestar import Request
from litestar.response import Template

from portal.kernel.clock import BANGKOK, utcnow
from portal.kernel.phone import ThaiMobile
from portal.otp.session_state import PendingCode
from portal.web.rendering import render


@dataclass(frozen=True)
class CodeStepLinks:
    step_label: str
    verify_url: str
    resend_url: str
    change_phone_url: str
    close_url: str
    step_label_en: str = ""


SPENT = frozenset({"code_exhausted", "code_expired", "code_unknown"})
"""Errors after which the code input is disabled and "ขอรหัสใหม่" is the one way on."""


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
    if error == "code_wrong" and tries_left == 0:
        error = "code_exhausted"  # the fifth wrong code: say what to do now, not "0 tries left"
    wait = max(0, int((pending.resend_at - utcnow()).total_seconds() + 0.999))
    national = ThaiMobile(pending.phone).national
    return render(
        request,
        page="components/otp.html",
        partial="components/_otp_form.html",
        context={
            **asdict(links),
            # In full: the citizen has just typed it, and masking would hide a typo.
            "phone_display": f"{national[:3]}-{national[3:6]}-{national[6:]}",
            "resend_wait": wait,
            # For the page without JavaScript: a time of day does not stand still.
            "resend_clock": pending.resend_at.astimezone(BANGKOK).strftime("%H:%M:%S"),
            # This code can no longer pass: only a new one helps.
            "code_spent": error in SPENT,
            "error": error,
            "tries_left": tries_left,
            "retry_after": retry_after,
        },
        status_code=status_code,
        headers=headers,
    )
