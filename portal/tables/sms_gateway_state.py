from piccolo.columns import Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table


class SmsGatewayState(Table):
    """Which SMS gateway sends now (PORTAL_SMS_BACKEND or PORTAL_SMS_FALLBACK_BACKEND).

    One row, shared by every process that dispatches (web workers, ``portal sms worker``), so
    they all switch together; ``portal/sms/failover.py`` owns it. No row means the primary.
    """

    id = Serial(primary_key=True)
    name = Varchar(length=16, unique=True)
    """Always ``"gateway"``: the key of the single row."""
    active = Varchar(length=16, default="primary")
    """``primary`` or ``fallback``."""
    primary_failures = Integer(default=0)
    """The primary's consecutive failed sends (timeouts, 5xx, refused credentials)."""
    switched_at = Timestamptz(null=True, default=None)
    probe_at = Timestamptz(null=True, default=None)
    """While on the fallback: when one message may try the primary again."""
    reason = Text(default="")
    """Why it last switched (the primary's last error), for the admins' SMS page."""
