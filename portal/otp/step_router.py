"""The OTP step, written once: the phone page, the code page and "send again", for any purpose.

A purpose describes itself with an ``OtpStep``: its paths and route names, its phone page,
what its pages need from the path (``context``, a Litestar dependency) and what happens once
the code passed (``on_verified``). ``otp_step_router`` turns that into a ``Router`` whose
handlers send and check codes under the limits of ``portal.otp.service`` and keep the pending
code and the verified phone in the session (``portal.otp.session_state``). Filing
(``portal.citizen.verify_routes``) and tracking (``portal.tracking.lookup_routes``) are two
such descriptions; a new purpose is one more, and one service call in its ``on_verified``.

Every code is sent, checked and remembered at the request's office (``office_of``): a code
asked for at office A is unknown at office B, and so is the phone it verified.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Response, Template

from portal.kernel.clock import utcnow
from portal.kernel.phone import PhoneError, parse_thai_mobile
from portal.otp.config import OtpConfig
from portal.otp.purposes import Purpose
from portal.otp.service import CheckOutcome, RateLimited, check_code, issue_code, spent_code_error
from portal.otp.session_state import (
    PendingCode,
    browser_id,
    mark_verified,
    pending_code,
    set_pending_code,
)
from portal.otp.step_rendering import CodeStepLinks, render_code_step
from portal.web.offices import office_of
from portal.web.rendering import MAIN, client_ip, go_to, path_for, step_target

AnyRequest = Request[Any, Any, Any]


@dataclass(frozen=True)
class StepRoutes:
    """The step's three paths, its five route names, and where the code page's "close" goes."""

    phone_path: str
    verify_path: str
    resend_path: str
    phone_form: str
    phone_submit: str
    code_form: str
    code_submit: str
    code_resend: str
    close: str


@dataclass(frozen=True)
class PhoneStepView:
    """What the purpose's phone page shows: what was typed and, after a refusal, why."""

    phone: str = ""
    error: str | None = None
    error_field: str = "phone"
    retry_after: int | None = None
    notice: str | None = None
    status_code: int = 200
    fields: Mapping[str, str] = field(default_factory=dict)
    """The purpose's own inputs as typed (``OtpStep.form_fields``), to show them again."""

    @property
    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else None


class PhoneStepRefused(Exception):
    """Raised by ``OtpStep.next_step`` for one of the purpose's own inputs: no code is sent."""

    def __init__(self, error: str, error_field: str) -> None:
        super().__init__(error)
        self.error = error
        self.error_field = error_field


def _nothing_next(request: AnyRequest, context: Any, fields: Mapping[str, str]) -> str:
    return ""


def _keep_next(context: Any, pending: PendingCode) -> str:
    return pending.next_step


def _blank(request: AnyRequest, context: Any) -> PhoneStepView:
    return PhoneStepView()


def _no_params(context: Any) -> Mapping[str, Any]:
    return {}


def _no_labels(context: Any) -> tuple[str, str]:
    return "", ""


@dataclass(frozen=True)
class OtpStep:
    """One purpose's OTP step. Only ``purpose``, ``routes``, ``context``, ``phone_page`` and
    ``on_verified`` must be given; the rest have defaults for a step with no inputs of its own.
    """

    purpose: Purpose
    routes: StepRoutes
    context: Callable[..., Any]
    """A Litestar dependency (it may take path parameters and other dependencies): what the
    purpose's pages need, such as the service a code is for; it raises for an unknown one."""
    phone_page: Callable[[AnyRequest, Any, PhoneStepView], Template]
    on_verified: Callable[[AnyRequest, Any, PendingCode], Awaitable[Response[Any]]]
    """The next step's response once the code passed (the phone is marked verified first)."""
    form_fields: tuple[str, ...] = ()
    """The phone form's own inputs besides ``phone`` (shown again after a refusal)."""
    next_step: Callable[[AnyRequest, Any, Mapping[str, str]], str] = _nothing_next
    """From the phone form: what the code leads to, kept with it (or ``PhoneStepRefused``)."""
    resend_next_step: Callable[[Any, PendingCode], str] = _keep_next
    """On "send again": what the new code leads to (by default, what the old one did)."""
    prefill: Callable[[AnyRequest, Any], PhoneStepView] = _blank
    """What the phone page shows when opened."""
    url_params: Callable[[Any], Mapping[str, Any]] = _no_params
    """The path parameters of the step's routes, from the context."""
    labels: Callable[[Any], tuple[str, str]] = _no_labels
    """The code page's heading, in Thai and in English."""
    in_dialog: bool = False
    """Redirects swap wherever the htmx request swapped (the dialog), not the page's main."""
    back_to_live_code: bool = False
    """A second send too soon for the same phone goes back to the live code, not a refusal."""


def otp_step_router(step: OtpStep) -> Router:
    """The five handlers of ``step`` as a ``Router``, its context as their dependency."""
    handlers = _Handlers(step)
    context = step.context
    provide = (
        Provide(context)
        if inspect.iscoroutinefunction(context)
        else Provide(context, sync_to_thread=False)
    )
    return Router(
        path="/",
        route_handlers=handlers.route_handlers(),
        dependencies={"step_context": provide},
    )


class _Handlers:
    """The step's handlers and the few things they share, for one ``OtpStep``."""

    def __init__(self, step: OtpStep) -> None:
        self.step = step
        self.purpose = step.purpose.key

    def go(self, request: AnyRequest, route: str, context: Any) -> Response[Any]:
        target = step_target(request) if self.step.in_dialog else MAIN
        return go_to(request, route, target=target, **self.step.url_params(context))

    def code_page(
        self, request: AnyRequest, context: Any, pending: PendingCode, **shown: Any
    ) -> Template:
        routes, params = self.step.routes, self.step.url_params(context)

        def reverse(name: str, **values: Any) -> str:
            return path_for(request, name, **values)

        label, label_en = self.step.labels(context)
        links = CodeStepLinks(
            step_label=label,
            verify_url=reverse(routes.code_submit, **params),
            resend_url=reverse(routes.code_resend, **params),
            change_phone_url=reverse(routes.phone_form, **params),
            close_url=reverse(routes.close),
            step_label_en=label_en,
        )
        return render_code_step(request, pending, links, **shown)

    def at_limit(
        self, request: AnyRequest, context: Any, pending: PendingCode, limit: RateLimited
    ) -> Template:
        return self.code_page(
            request,
            context,
            pending,
            error=f"limit_{limit.reason}",
            retry_after=limit.retry_after_seconds,
            status_code=429,
        )

    async def send(self, request: AnyRequest, otp: OtpConfig, phone: str, next_step: str) -> None:
        issued = await issue_code(
            phone=phone,
            purpose=self.purpose,
            session_id=browser_id(request.session),
            client_ip=client_ip(request),
            key=otp.key,
            sms=otp.sms,
            policy=otp.policy,
            office=office_of(request),
        )
        pending = PendingCode(
            issued.challenge_id, phone, next_step, issued.resend_at, issued.expires_at
        )
        set_pending_code(request.session, self.purpose, pending, office=office_of(request))

    def code_on_its_way(self, request: AnyRequest, phone: str, limit: RateLimited) -> bool:
        """The citizen closed the dialog or refreshed while the SMS was on its way."""
        pending = pending_code(request.session, self.purpose, office=office_of(request))
        return (
            self.step.back_to_live_code
            and limit.reason == "resend_too_soon"
            and pending is not None
            and pending.phone == phone
            and pending.is_live(utcnow())
        )

    async def phone_submitted(
        self, request: AnyRequest, context: Any, otp: OtpConfig
    ) -> Response[Any]:
        step = self.step
        form = await request.form()
        raw = str(form.get("phone", ""))
        fields = {name: str(form.get(name, "")) for name in step.form_fields}
        typed = PhoneStepView(phone=raw, fields=fields, status_code=422)
        try:
            next_step = step.next_step(request, context, fields)
            mobile = parse_thai_mobile(raw)
        except PhoneStepRefused as refused:
            view = replace(typed, error=refused.error, error_field=refused.error_field)
            return step.phone_page(request, context, view)
        except PhoneError as error:
            return step.phone_page(request, context, replace(typed, error=error.code))
        try:
            await self.send(request, otp, mobile.e164, next_step)
        except RateLimited as limit:
            if self.code_on_its_way(request, mobile.e164, limit):
                return self.go(request, step.routes.code_form, context)
            view = replace(
                typed,
                error=f"limit_{limit.reason}",
                retry_after=limit.retry_after_seconds,
                status_code=429,
            )
            return step.phone_page(request, context, view)
        return self.go(request, step.routes.code_form, context)

    async def code_checked(
        self, request: AnyRequest, context: Any, otp: OtpConfig
    ) -> Response[Any]:
        office = office_of(request)
        pending = pending_code(request.session, self.purpose, office=office)
        if pending is None:
            lost = PhoneStepView(error="code_session_lost", status_code=422)
            return self.step.phone_page(request, context, lost)
        form = await request.form()
        try:
            result = await check_code(
                challenge_id=pending.challenge_id,
                phone=pending.phone,
                purpose=self.purpose,
                session_id=browser_id(request.session),
                code=str(form.get("code", "")),
                key=otp.key,
                policy=otp.policy,
                office=office,
            )
        except RateLimited as limit:
            return self.at_limit(request, context, pending, limit)
        if result.outcome is not CheckOutcome.passed:
            return self.code_page(
                request,
                context,
                pending,
                error=f"code_{result.outcome.value}",
                tries_left=result.tries_left,
                status_code=422,
            )
        # The passed code is the verification (a purpose may consume its row once, server-side).
        mark_verified(
            request.session,
            self.purpose,
            pending.phone,
            utcnow(),
            pending.challenge_id,
            office=office,
        )
        return await self.step.on_verified(request, context, pending)

    async def resent(self, request: AnyRequest, context: Any, otp: OtpConfig) -> Response[Any]:
        routes = self.step.routes
        pending = pending_code(request.session, self.purpose, office=office_of(request))
        if pending is None:
            return self.go(request, routes.phone_form, context)
        try:
            next_step = self.step.resend_next_step(context, pending)
            await self.send(request, otp, pending.phone, next_step)
        except RateLimited as limit:
            return self.at_limit(request, context, pending, limit)
        return self.go(request, routes.code_form, context)

    async def code_page_again(
        self, request: AnyRequest, context: Any, otp: OtpConfig
    ) -> Response[Any]:
        office = office_of(request)
        pending = pending_code(request.session, self.purpose, office=office)
        if pending is None:
            return self.go(request, self.step.routes.phone_form, context)
        spent = await spent_code_error(
            pending.challenge_id, pending.phone, otp.policy, office=office
        )
        return self.code_page(request, context, pending, error=spent)

    def route_handlers(self) -> list[Any]:
        routes, step = self.step.routes, self.step

        @get(routes.phone_path, name=routes.phone_form)
        async def phone_form(request: AnyRequest, step_context: NamedDependency[Any]) -> Template:
            """The phone page (also the code page's "change number" link)."""
            return step.phone_page(request, step_context, step.prefill(request, step_context))

        @post(routes.phone_path, name=routes.phone_submit)
        async def phone_submit(
            request: AnyRequest, step_context: NamedDependency[Any], otp: NamedDependency[OtpConfig]
        ) -> Response[Any]:
            return await self.phone_submitted(request, step_context, otp)

        @get(routes.verify_path, name=routes.code_form)
        async def code_form(
            request: AnyRequest, step_context: NamedDependency[Any], otp: NamedDependency[OtpConfig]
        ) -> Response[Any]:
            return await self.code_page_again(request, step_context, otp)

        @post(routes.verify_path, name=routes.code_submit)
        async def code_submit(
            request: AnyRequest, step_context: NamedDependency[Any], otp: NamedDependency[OtpConfig]
        ) -> Response[Any]:
            return await self.code_checked(request, step_context, otp)

        @post(routes.resend_path, name=routes.code_resend)
        async def code_resend(
            request: AnyRequest, step_context: NamedDependency[Any], otp: NamedDependency[OtpConfig]
        ) -> Response[Any]:
            return await self.resent(request, step_context, otp)

        return [phone_form, phone_submit, code_form, code_submit, code_resend]
