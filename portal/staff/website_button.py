"""The copy-paste "เข้าสู่ระบบ e-Service" button for the office's own website (issue 16, item 5).

Most offices already have a website (often a template from a provider they cannot program)
and the manual's first step starts there, on a button "เข้าสู่ระบบ e-Service". So the snippet is
one plain link styled inline: no script, no image, no stylesheet, nothing loaded from the
portal, so it works pasted into any page editor and costs the office's site nothing. It points
at the office's own base URL (its host name, or the platform's ``/o/<slug>`` address).
"""

from __future__ import annotations

from html import escape

from portal.kernel.offices import OfficeRef

LABEL = "เข้าสู่ระบบ e-Service"
STYLE = (
    "display:inline-block;padding:12px 24px;background:#0b5d3b;color:#ffffff;"
    "font-family:Tahoma,'Noto Sans Thai',sans-serif;font-size:18px;font-weight:bold;"
    "line-height:1.4;text-decoration:none;border-radius:10px"
)
"""The portal's own green and its rounded corners; Tahoma ships with Thai on Windows."""


def button_url(office: OfficeRef) -> str:
    """Where the button goes: the office's home page on the portal."""
    return office.base_url.rstrip("/") + "/"


def button_snippet(office: OfficeRef) -> str:
    """The HTML to paste: every value escaped, so an office name with quotes or ``<`` cannot
    break out of the attribute it sits in."""
    title = f"บริการออนไลน์ e-Service ของ{office.name}" if office.name else "บริการออนไลน์ e-Service"
    return (
        f'<a href="{escape(button_url(office))}" style="{STYLE}" '
        f'title="{escape(title)}">{escape(LABEL)}</a>'
    )
