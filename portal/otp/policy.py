"""The numbers of DESIGN.md section 5, in one place so tests and limits agree.

Why guessing stays infeasible (a code is 6 digits, 10^6 values, and is bound to the browser it
was sent to, so a stranger can only guess codes sent to their own browser):
- every code dies after ``wrong_tries_per_code`` = 5 wrong tries;
- a phone gets at most ``sends_per_phone_short`` = 3 codes in 15 minutes and
  ``sends_per_phone_day`` = 10 in 24 hours, whichever browsers ask;
- so at most 10 x 5 = 50 guesses a day reach one phone's codes: a chance of 50 / 10^6 =
  1 in 20,000 a day (at most 3 x 5 = 15 guesses in any 15 minutes), and the NIST SP 800-63B
  ceiling of ``wrong_tries_per_phone`` = 100 failures per phone per 24 hours holds even if an
  office raises the send limits.
Wrong guesses lock a (phone, browser) pair (``wrong_tries_per_browser``), not the phone: a
stranger's guesses from their browser no longer stop the owner, who asks a fresh code from
their own browser and gets in. Only the ceiling locks the phone for everyone.

Offices (issue 16): every phone limit above counts per office (a code of office A only ever
passes at A, so each office is its own verifier), and the platform adds a ceiling across all
offices of ``platform_factor`` (3) times each per-phone limit, so one phone cannot be flooded by
walking offices: at most 3 x 10 = 30 codes a day platform-wide, 150 guesses, 1 in 6,700. The
per-address limits (``sends_per_ip_hour``, ``phones_per_ip_hour``) are platform-wide: one
attacker, many offices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class OtpPolicy:
    validity: timedelta = timedelta(minutes=5)
    wrong_tries_per_code: int = 5
    wrong_tries_per_browser: int = 10
    """Wrong tries one browser may make for one phone in ``wrong_tries_window`` (two codes)."""
    wrong_tries_per_phone: int = 100
    """The ceiling for the phone, all browsers together (NIST SP 800-63B: at most 100)."""
    wrong_tries_window: timedelta = timedelta(hours=24)
    resend_after: timedelta = timedelta(seconds=60)
    sends_per_phone_short: int = 3
    short_window: timedelta = timedelta(minutes=15)
    sends_per_phone_day: int = 10
    sends_per_ip_hour: int = 300
    """Codes one address group may ask for in an hour, all phones together: a high ceiling,
    since a carrier's shared IPv4 address (CGNAT) carries many citizens."""
    phones_per_ip_hour: int = 60
    """Distinct phones one address group may ask codes for in an hour: a bot walking a list
    of numbers stops here, while an honest shared address brings a few new phones an hour."""
    ipv6_prefix: int = 64
    """IPv6 clients are counted per prefix of this length (``portal.kernel.client_net``)."""
    daily_budget: int = 0
    """The platform's ceiling on SMS counted in 24 hours across every office
    (PORTAL_SMS_PLATFORM_DAILY_LIMIT); 0: none. Each office's own budget is
    ``OfficeRef.sms_daily_budget``."""
    platform_factor: int = 3
    """The per-phone ceilings across all offices: this many times each per-office limit."""
    verified_for: timedelta = timedelta(minutes=30)
    """How long a passed check lets the browser file requests before asking again (idle)."""
    tracking_idle: timedelta = timedelta(minutes=15)
    """How long a passed tracking check lets the browser read its requests while idle."""

    def across_offices(self, per_office: int) -> int:
        """The platform-wide ceiling of a per-phone limit that counts per office."""
        return per_office * self.platform_factor
