"""Piccolo app registration, so ``piccolo migrations`` finds the portal's tables."""

import os

from piccolo.conf.apps import AppConfig

from portal.tables.citizen_request import CitizenRequest
from portal.tables.otp_challenge import OtpChallenge
from portal.tables.request_event import RequestEvent
from portal.tables.service import Service
from portal.tables.sms_message import SmsMessage

ALL_TABLES = [Service, CitizenRequest, RequestEvent, SmsMessage, OtpChallenge]

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=ALL_TABLES,
    migration_dependencies=[],
    commands=[],
)
