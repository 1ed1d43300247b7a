"""``create_app(settings)``: the one place the portal is assembled."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from litestar import Litestar
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

from portal.attachments import routes as attachment_routes
from portal.attachments.config import AttachmentConfig
from portal.citizen import form_routes, menu_routes, verify_routes
from portal.citizen.deps import CitizenConfig
from portal.db import PoolSize, close_pool, configure_database, start_pool
from portal.office import contact as office_contact
from portal.ops.gateway import install as install_ops
from portal.otp.policy import OtpPolicy
from portal.privacy import citizen_ids
from portal.privacy import routes as privacy_routes
from portal.privacy import staff_routes as privacy_staff_routes
from portal.pwa import routes as pwa_routes
from portal.receipt import routes as receipt_routes
from portal.settings import Settings, load_settings
from portal.sms import report_routes as sms_report_routes
from portal.sms import routes as sms_routes
from portal.sms.background import dispatcher_hooks
from portal.sms.dispatcher import SmsTiming
from portal.sms.outbox import SmsConfig
from portal.staff import (
    admin_routes,
    auth_routes,
    catalogue_routes,
    enrolment_routes,
    inbox_routes,
    request_routes,
)
from portal.staff import sms_routes as staff_sms_routes
from portal.staff.deps import StaffConfig
from portal.staff.guards import signed_in_staff
from portal.tracking import lookup_routes
from portal.tracking import routes as tracking_routes
from portal.web import errors, language_routes
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


def create_app(
    settings: Settings,
    *,
    otp_policy: OtpPolicy | None = None,
    sms_timing: SmsTiming | None = None,
) -> Litestar:
    configure_database(settings.database_url, PoolSize.from_settings(settings))
    citizen_ids.configure(settings)  # filing seals citizen IDs with keys from this secret
    office_contact.configure(settings)  # the SMS to a request's old number names its phone
    secure = not settings.is_development
    citizen = CitizenConfig(
        otp_key=settings.derive_key("otp-code"),
        form_key=settings.derive_key("form-key"),
        otp_policy=otp_policy
        or OtpPolicy(
            daily_budget=settings.sms_daily_budget,
            sends_per_ip_hour=settings.otp_ip_hourly_limit,
            phones_per_ip_hour=settings.otp_ip_phones_hourly_limit,
            ipv6_prefix=settings.ipv6_prefix_length,
        ),
        sms=SmsConfig.from_settings(settings),
        base_url=settings.base_url,
        filings_per_phone_day=settings.filings_per_phone_day,
    )
    session = RotatingCookieBackendConfig(
        secret=settings.derive_key("session-cookie"),  # old secrets still read (until expiry)
        key=cookie_name(SESSION_COOKIE, secure=secure),
        httponly=True,
        secure=secure,
        samesite="lax",
        max_age=60 * 60 * 12,
    )
    csrf = CSRFConfig(
        secret=settings.derive_key("csrf").hex(),
        cookie_name=cookie_name(CSRF_COOKIE, secure=secure),
        cookie_httponly=True,
        cookie_secure=secure,
        cookie_samesite="lax",
        header_name="x-csrftoken",
    )
    staff_config = StaffConfig(
        totp_key=settings.derive_key("staff-totp"),
        sms=citizen.sms,
        base_url=settings.base_url,
        sms_daily_limit=settings.sms_daily_budget,
        enrolment_key=settings.derive_key("staff-enrolment"),
        ipv6_prefix=settings.ipv6_prefix_length,
    )
    handlers: list[Any] = [
        menu_routes.home,
        menu_routes.menu,
        menu_routes.service_start,
        verify_routes.phone_form,
        verify_routes.phone_submit,
        verify_routes.code_form,
        verify_routes.code_submit,
        verify_routes.code_resend,
        form_routes.service_form,
        form_routes.service_submit,
        form_routes.service_form_draft,
        form_routes.submitted,
        tracking_routes.track_link,
        receipt_routes.receipt_page,
        receipt_routes.receipt_pdf,
        lookup_routes.track_lookup,
        lookup_routes.track_lookup_submit,
        lookup_routes.track_code_form,
        lookup_routes.track_code_submit,
        lookup_routes.track_code_resend,
        lookup_routes.track_list,
        lookup_routes.track_detail,
        lookup_routes.track_sign_out,
        auth_routes.sign_in_form,
        auth_routes.sign_in_submit,
        enrolment_routes.enrol_form,
        enrolment_routes.enrol_submit,
        auth_routes.sign_out,
        auth_routes.password_form,
        auth_routes.password_submit,
        inbox_routes.inbox,
        inbox_routes.export,
        request_routes.request_page,
        request_routes.change_status_action,
        request_routes.add_note_action,
        request_routes.assign_action,
        request_routes.fix_phone_action,
        admin_routes.audit_log,
        admin_routes.accounts_page,
        admin_routes.create_account_action,
        admin_routes.set_active_action,
        admin_routes.reset_enrolment_action,
        *staff_sms_routes.handlers,
        catalogue_routes.catalogue,
        catalogue_routes.new_service,
        catalogue_routes.edit_service,
        catalogue_routes.create_service,
        catalogue_routes.update_service,
        catalogue_routes.create_template,
        catalogue_routes.retire_template,
        language_routes.set_language,
        privacy_routes.privacy_notice,
        office_contact.contact_page,
        privacy_staff_routes.reveal_citizen_id,
        privacy_staff_routes.export_form,
        privacy_staff_routes.export_submit,
        pwa_routes.manifest,
        pwa_routes.service_worker,
        pwa_routes.offline,
        pwa_routes.asset,
        create_static_files_router(
            path="/static",
            directories=[PACKAGE_DIR / "static"],
            name="static",
            cache_control=None,
            guards=[static_path_guard],
        ),
    ]
    if settings.is_development:
        handlers.append(sms_routes.dev_sms)
    handlers.extend(sms_report_routes.handlers)
    handlers.extend(attachment_routes.handlers)
    attachments = AttachmentConfig.from_settings(settings)
    sms_startup, sms_shutdown = dispatcher_hooks(settings, sms_timing)

    assets = AssetManifest.scan(PACKAGE_DIR / "static")
    template_config = TemplateConfig(
        directory=PACKAGE_DIR / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: configure_environment(
            engine.engine, settings, citizen.otp_policy, assets
        ),
    )
    app = Litestar(
        route_handlers=handlers,
        dependencies={
            "citizen": Provide(lambda: citizen, sync_to_thread=False),
            "staff_config": Provide(lambda: staff_config, sync_to_thread=False),
            "attachments": Provide(lambda: attachments, sync_to_thread=False),
            "staff": Provide(signed_in_staff, sync_to_thread=False),
        },
        template_config=template_config,
        plugins=[HTMXPlugin()],
        request_class=PortalRequest,
        middleware=[
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
            session.middleware,
        ],
        before_send=[security_headers(production=not settings.is_development)],
        csrf_config=csrf,
        exception_handlers={HTTPException: errors.http_error, Exception: errors.server_error},
        on_startup=[
            start_pool,
            receipt_routes.warn_if_font_missing,
            office_contact.warn_if_unset,
            *sms_startup,
        ],
        on_shutdown=[*sms_shutdown, close_pool],
        request_max_body_size=MAX_BODY_BYTES,
        response_headers=_worker_header(settings),
        state=State({"settings": settings, "assets": assets}),
        compression_config=CompressionConfig(backend="gzip", minimum_size=512),
        debug=False,
        # Logging is set up by `portal serve` (portal/web/access_log.py): Litestar's default
        # would replace the root handler with its own format, JSON lines included.
        logging_config=None,
        openapi_config=None,
    )
    # Request ids, the request log, HTTP metrics, /healthz, /readyz and /metrics.
    return install_ops(app, settings)


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
