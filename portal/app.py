"""``create_app(settings)``: the one place the portal is assembled.

Each feature brings its routes as a ``Router`` (``portal/<feature>/router.py``, built from the
settings by ``build_router``); this module mounts them with the middleware, the templates and
the app-wide dependencies, among them the typed ``settings: Settings`` every handler may take.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader, State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler, Middleware

from portal.attachments.config import AttachmentConfig
from portal.citizen import router as citizen_router
from portal.citizen.deps import CitizenConfig
from portal.db import close_pool, configure_database, start_pool
from portal.db_engines import PoolSize
from portal.kernel.offices import sync_default_office
from portal.office import contact as office_contact
from portal.office import router as office_router
from portal.ops.gateway import install as install_ops
from portal.otp.config import OtpConfig
from portal.otp.policy import OtpPolicy
from portal.platform import router as platform_router
from portal.privacy import citizen_ids
from portal.privacy import router as privacy_router
from portal.pwa import router as pwa_router
from portal.receipt import router as receipt_router
from portal.receipt.fonts import warn_if_font_missing
from portal.settings import SETTINGS_STATE_KEY, Settings, load_settings, settings_of
from portal.sms import router as sms_router
from portal.sms.background import dispatcher_hooks
from portal.sms.dispatcher import SmsTiming
from portal.sms.outbox import SmsConfig
from portal.staff import router as staff_router
from portal.staff.deps import StaffConfig
from portal.staff.guards import signed_in_staff
from portal.tracking import router as tracking_router
from portal.web import errors, offices
from portal.web import router as web_router
from portal.web.assets import AssetManifest
from portal.web.body_limits import BodyLimits
from portal.web.csrf_keys import CsrfKeyRotation
from portal.web.errors import CSRF_COOKIE
from portal.web.hardening import PortalRequest, static_path_guard
from portal.web.security_headers import cookie_name, security_headers
from portal.web.session_keys import RotatingCookieBackendConfig
from portal.web.templating import configure_environment

PACKAGE_DIR = Path(__file__).resolve().parent
SESSION_COOKIE = "portal_session"
"""Outside development the cookie is ``__Host-portal_session`` (see ``cookie_name``)."""
MAX_BODY_BYTES = 1_000_000
WORKER_HEADER = "x-portal-worker"

ROUTER_BUILDERS: tuple[Callable[[Settings], Router], ...] = (
    citizen_router.build_router,
    tracking_router.build_router,
    receipt_router.build_router,
    staff_router.build_router,
    platform_router.build_router,
    privacy_router.build_router,
    office_router.build_router,
    sms_router.build_router,
    pwa_router.build_router,
    web_router.build_router,
)
"""Every feature's routes; a new feature adds its ``build_router`` here."""


def create_app(
    settings: Settings,
    *,
    otp_policy: OtpPolicy | None = None,
    sms_timing: SmsTiming | None = None,
) -> Litestar:
    configure_database(settings.database_url, PoolSize.from_settings(settings))
    policy = otp_policy or otp_policy_from(settings)
    citizen = citizen_config(settings)
    assets = AssetManifest.scan(PACKAGE_DIR / "static")
    csrf = csrf_config(settings)
    sms_startup, sms_shutdown = dispatcher_hooks(settings, sms_timing)
    app = Litestar(
        route_handlers=route_handlers(settings),
        dependencies=dependencies(settings, citizen, policy, assets),
        template_config=template_config(settings, policy, assets),
        plugins=[HTMXPlugin()],
        request_class=PortalRequest,
        middleware=middleware(settings, csrf),
        before_send=[security_headers(production=not settings.is_development)],
        csrf_config=csrf,
        exception_handlers={HTTPException: errors.http_error, Exception: errors.server_error},
        on_startup=[
            start_pool,
            _sync_default_office,
            warn_if_font_missing,
            office_contact.warn_if_unset,
            *sms_startup,
        ],
        on_shutdown=[*sms_shutdown, close_pool],
        request_max_body_size=MAX_BODY_BYTES,
        response_headers=_worker_header(settings),
        state=State({SETTINGS_STATE_KEY: settings}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=512),
        debug=False,
        # Logging is set up by `portal serve` (portal/web/access_log.py): Litestar's default
        # would replace the root handler with its own format, JSON lines included.
        logging_config=None,
        openapi_config=None,
    )
    # Which office each request is for (host name, or /o/<slug>/ in development) ...
    offices.install(app, settings)
    # ... inside request ids, the request log, HTTP metrics, /healthz, /readyz and /metrics.
    return install_ops(app, settings)


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """The features' routers and the static files."""
    static = create_static_files_router(
        path="/static",
        directories=[PACKAGE_DIR / "static"],
        name="static",
        cache_control=None,
        guards=[static_path_guard],
    )
    return [*(build(settings) for build in ROUTER_BUILDERS), static]


def dependencies(
    settings: Settings, citizen: CitizenConfig, policy: OtpPolicy, assets: AssetManifest
) -> dict[str, Provide]:
    """What handlers receive by name; each value is built once, here."""
    staff_config = staff_config_from(settings, citizen.sms)
    attachments = AttachmentConfig.from_settings(settings)
    return {
        "settings": _constant(settings),
        "assets": _constant(assets),
        "citizen": _constant(citizen),
        # Every OTP step (portal.otp.step_router) and the verified-phone dependencies.
        "otp": _constant(OtpConfig(settings.derive_key("otp-code"), policy, citizen.sms)),
        "staff_config": _constant(staff_config),
        "attachments": _constant(attachments),
        "staff": Provide(signed_in_staff, sync_to_thread=False),
        "office": Provide(offices.provide_office, sync_to_thread=False),
    }


async def _sync_default_office(app: Litestar) -> None:
    await sync_default_office(settings_of(app))


def _constant(value: Any) -> Provide:
    return Provide(lambda: value, sync_to_thread=False, use_cache=True)


def otp_policy_from(settings: Settings) -> OtpPolicy:
    return OtpPolicy(
        daily_budget=settings.sms_platform_daily_budget,  # each office's own: sms_daily_budget
        sends_per_ip_hour=settings.otp_ip_hourly_limit,
        phones_per_ip_hour=settings.otp_ip_phones_hourly_limit,
        ipv6_prefix=settings.ipv6_prefix_length,
    )


def citizen_config(settings: Settings) -> CitizenConfig:
    return CitizenConfig(
        form_key=settings.derive_key("form-key"),
        sms=SmsConfig.from_settings(settings),
        base_url=settings.base_url,
        filings_per_phone_day=settings.filings_per_phone_day,
        vault=citizen_ids.CitizenIdVault.from_settings(settings),
    )


def staff_config_from(settings: Settings, sms: SmsConfig) -> StaffConfig:
    return StaffConfig(
        totp_key=settings.derive_key("staff-totp"),
        sms=sms,
        enrolment_key=settings.derive_key("staff-enrolment"),
        ipv6_prefix=settings.ipv6_prefix_length,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    secure = not settings.is_development
    return CSRFConfig(
        secret=settings.derive_key("csrf").hex(),
        cookie_name=cookie_name(CSRF_COOKIE, secure=secure),
        cookie_httponly=True,
        cookie_secure=secure,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )


def session_config(settings: Settings) -> RotatingCookieBackendConfig:
    secure = not settings.is_development
    return RotatingCookieBackendConfig(
        secret=settings.derive_key("session-cookie"),  # old secrets still read (until expiry)
        key=cookie_name(SESSION_COOKIE, secure=secure),
        httponly=True,
        secure=secure,
        samesite="lax",
        max_age=60 * 60 * 12,
    )


def middleware(settings: Settings, csrf: CSRFConfig) -> list[Middleware]:
    return [
        # Outside the CSRF middleware, which reads the form first: bodies that are too
        # big are refused unread, bodies that come too slowly are cut off (a 408).
        DefineMiddleware(
            BodyLimits,
            idle_timeout=settings.body_idle_timeout_s,
            deadline=settings.body_deadline_s,
            default_max_body=MAX_BODY_BYTES,
        ),
        # Before anything reads the cookies: a CSRF token an old secret signed is moved
        # to the current one (only with PORTAL_OLD_SECRET_KEYS set).
        DefineMiddleware(CsrfKeyRotation, csrf=csrf, key=settings.derive_key("csrf")),
        session_config(settings).middleware,
    ]


def template_config(
    settings: Settings, otp_policy: OtpPolicy, assets: AssetManifest
) -> TemplateConfig[JinjaTemplateEngine]:
    valid_minutes = int(otp_policy.validity.total_seconds() // 60)
    return TemplateConfig(
        directory=PACKAGE_DIR / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: configure_environment(
            engine.engine, settings, assets, otp_valid_minutes=valid_minutes
        ),
    )


def _worker_header(settings: Settings) -> list[ResponseHeader]:
    """In development, which ``portal serve`` worker answered: a random tag per process (not
    its pid), so tests and the benchmark can see requests spread over the workers."""
    if not settings.is_development:
        return []
    return [ResponseHeader(name=WORKER_HEADER, value=secrets.token_hex(4))]


def create_app_from_env() -> Litestar:
    """The factory ``portal serve`` hands to uvicorn, so each worker builds its own app."""
    logging.basicConfig(level=logging.INFO)
    return create_app(load_settings())
