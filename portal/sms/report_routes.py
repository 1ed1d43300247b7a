"""Delivery reports from SMS gateways: ``/sms/reports/...``, outside CSRF (gateways have no
session), each authenticated its provider's way instead.

- ``POST /sms/reports/twilio``: Twilio status callbacks, checked by ``X-Twilio-Signature``;
- ``GET|POST /sms/reports/{webhook|thaibulksms}/{PORTAL_SMS_REPORT_TOKEN}``: the secret token
  in the URL is the credential.

Only the configured backends' reports are taken (PORTAL_SMS_BACKEND and
PORTAL_SMS_FALLBACK_BACKEND: a message sent through the fallback is reported by it); anything
else is a 404. Every authenticated report answers 204, whether or not it matched a message, so
the answer tells nobody which ids exist.

The body is read before the credential can be checked (Twilio signs the form fields), so it is
bounded before it is parsed: at most ``MAX_REPORT_BYTES`` (413) and JSON nested at most
``MAX_JSON_DEPTH`` deep (400). A real report is a few hundred bytes, a few levels deep; JSON
nested 10,000 deep made the parser (or our walk of it) raise ``RecursionError``, a 500.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post, route
from litestar.di import NamedDependency
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.params import FromPath

from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.sms.delivery import apply_reports
from portal.sms.providers import REPORTS_PATH, build_provider
from portal.sms.providers.base import IncomingReport

TOKEN_BACKENDS = ("webhook", "thaibulksms")
CSRF_EXEMPT = {"exclude_from_csrf": True}
MAX_REPORT_BYTES = 64 * 1024
"""Far above any gateway's report (one message's status: well under 2 KB)."""
MAX_JSON_DEPTH = 32
"""Gateways nest their reports two or three levels; 32 leaves room and no recursion risk."""


class ReportTooLarge(HTTPException):
    status_code = 413


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in ``raw``, without parsing it (no recursion): one
    pass that skips strings, so brackets inside them do not count."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


async def _bounded_body(request: Request[Any, Any, Any]) -> bytes:
    """The body, refused early when it says (or turns out) to be bigger than a report."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_REPORT_BYTES:
        raise ReportTooLarge(detail="report too large")
    body = await request.body()  # never past the portal's own cap (a 413 from Litestar)
    if len(body) > MAX_REPORT_BYTES:
        raise ReportTooLarge(detail="report too large")
    return body


def _parse_json(raw: bytes) -> Any:
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ClientException(detail="JSON nested too deep")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise ClientException(detail="malformed JSON") from error


async def _incoming(request: Request[Any, Any, Any], base_url: str) -> IncomingReport:
    url = base_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body: Any = None
    form: dict[str, str] = {}
    raw = await _bounded_body(request) if request.method == "POST" else b""
    if request.method == "POST" and content_type == "application/json":
        body = _parse_json(raw)
    elif request.method == "POST":
        fields = (await request.form()).items()
        form = {key: value for key, value in fields if isinstance(value, str)}
    return IncomingReport(
        url=url,
        headers={key.lower(): value for key, value in request.headers.items()},
        query={key: value for key, value in request.query_params.items()},
        form=form,
        json=body,
    )


async def _receive(
    request: Request[Any, Any, Any], settings: Settings, backend: str, token: str
) -> Response[None]:
    if backend not in (settings.sms_backend, settings.sms_fallback_backend):
        raise NotFoundException()
    provider = build_provider(settings, backend=backend)
    incoming = await _incoming(request, settings.base_url)
    if not provider.authenticate(incoming, token):
        raise PermissionDeniedException()
    await apply_reports(backend, provider.parse_report(incoming), utcnow())
    return Response(None, status_code=204)


@post(f"{REPORTS_PATH}/twilio", name="sms_report_twilio", opt=CSRF_EXEMPT, status_code=204)
async def twilio_report(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[None]:
    return await _receive(request, settings, "twilio", token="")


@route(
    f"{REPORTS_PATH}/{{backend:str}}/{{token:str}}",
    http_method=["GET", "POST"],
    name="sms_report",
    opt=CSRF_EXEMPT,
    status_code=204,
)
async def token_report(
    request: Request[Any, Any, Any],
    settings: NamedDependency[Settings],
    backend: FromPath[str],
    token: FromPath[str],
) -> Response[None]:
    if backend not in TOKEN_BACKENDS:
        raise NotFoundException()
    return await _receive(request, settings, backend, token)


handlers = [twilio_report, token_report]
