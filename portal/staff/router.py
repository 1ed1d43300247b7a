"""The staff side: signing in, the inbox, a request's page, accounts, SMS, the catalogue and
the office's website button."""

from __future__ import annotations

from litestar import Router

from portal.settings import Settings
from portal.staff import (
    admin_routes,
    attachment_routes,
    auth_routes,
    button_routes,
    catalogue_routes,
    enrolment_routes,
    inbox_routes,
    privacy_routes,
    request_routes,
    sms_routes,
)


def build_router(settings: Settings) -> Router:
    return Router(
        path="/",
        route_handlers=[
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
            attachment_routes.add_after_photo_action,
            attachment_routes.staff_file,
            admin_routes.audit_log,
            admin_routes.accounts_page,
            admin_routes.create_account_action,
            admin_routes.set_active_action,
            admin_routes.reset_enrolment_action,
            *sms_routes.handlers,
            *button_routes.handlers,
            catalogue_routes.catalogue,
            catalogue_routes.new_service,
            catalogue_routes.edit_service,
            catalogue_routes.create_service,
            catalogue_routes.update_service,
            catalogue_routes.create_template,
            catalogue_routes.retire_template,
            privacy_routes.reveal_citizen_id,
            privacy_routes.export_form,
            privacy_routes.export_submit,
        ],
    )
