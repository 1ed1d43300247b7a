from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from enum import Enum
from piccolo.columns.column_types import Varchar

ID = "2026-11-26T14:25:55:927016"
VERSION = "1.38.0"
DESCRIPTION = "sms_message.state: suppressed"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="portal", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="SmsMessage",
        tablename="sms_message",
        column_name="state",
        db_column_name="state",
        params={
            "choices": Enum(
                "SmsState",
                {
                    "queued": "queued",
                    "sending": "sending",
                    "sent": "sent",
                    "delivered": "delivered",
                    "failed": "failed",
                    "suppressed": "suppressed",
                },
            )
        },
        old_params={
            "choices": Enum(
                "SmsState",
                {
                    "queued": "queued",
                    "sending": "sending",
                    "sent": "sent",
                    "delivered": "delivered",
                    "failed": "failed",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
