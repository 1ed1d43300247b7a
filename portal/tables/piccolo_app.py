"""Piccolo app registration, so ``piccolo migrations`` finds the portal's tables."""

import os

from piccolo.conf.apps import AppConfig

from portal.tables.attachment import Attachment
from portal.tables.audit_event import AuditEvent
from portal.tables.citizen_request import CitizenRequest
from portal.tables.form_draft import FormDraft
from portal.tables.moved_token import MovedToken
from portal.tables.office import Office, OfficeHost
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.reply_template import ReplyTemplate
from portal.tables.request_event import RequestEvent
from portal.tables.service import Service
from portal.tables.sms_gateway_state import SmsGatewayState
from portal.tables.sms_message import SmsMessage
from portal.tables.staff_enrolment import StaffEnrolment
from portal.tables.staff_note import StaffNote
from portal.tables.staff_sign_in_attempt import StaffSignInAttempt
from portal.tables.staff_user import StaffUser
from portal.tables.upload_refusal import UploadRefusal

ALL_TABLES = [
    Office,
    OfficeHost,
    Service,
    StaffUser,
    CitizenRequest,
    RequestEvent,
    SmsMessage,
    OtpChallenge,
    StaffSignInAttempt,
    StaffNote,
    AuditEvent,
    ReplyTemplate,
    Attachment,
    StaffEnrolment,
    UploadRefusal,
    SmsGatewayState,
    MovedToken,
    FormDraft,
]

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
