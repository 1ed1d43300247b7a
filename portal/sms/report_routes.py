"""Delivery reports from SMS gateways: ``/sms/reports/...``, outside CSRF (gateways have no
session), each authenticated its provider's way instead.

- ``POST /sms/reports/twilio``: Twilio status callbacks, checked by ``X-Twilio-Signature``;
- ``GET|POST /sms/reports/{webhook|thaibulksms}/{PORTAL_SMS_REPORT_TOKEN}``: the secret token
  in the URL is the credential.

Only the configured backend's reports are taken; anything else is a 404. Every authenticated
report answers 204, whether or not it matched a message, so the answer tells nobody which ids
exist.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, post, route
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from portal.settings import Settings
from portal.sms.delivery import apply_reports
from portal.sms.providers import REPORTS_PATH, build_provider
from portal.sms.providers.base import IncomingReport
from portal.timeutil import utcnow

TOKEN_BACKENDS = ("webhook", "thaibulksms")
CSRF_EXEMPT = {"exclude_from_csrf": True}


async def _incoming(request: Request[Any, Any, Any], base_url: str) -> IncomingReport:
    url = base_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body: Any = None
    form: dict[str, str] = {}
    if request.method == "POST" and content_type == "application/json":
        try:
            body = json.loads(await request.body())
        except ValueError as error:
            raise ClientException(detail="malformed JSON") from error
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


async def _receive(request: Request[Any, Any, Any], backend: str, token: str) -> Response[None]:
    settings: Settings = request.app.state["settings"]
    if settings.sms_backend != backend:
        raise NotFoundException()
    provider = build_provider(settings)
    incoming = await _incoming(request, settings.base_url)
    if not provider.authenticate(incoming, token):
        raise PermissionDeniedException()
    await apply_reports(backend, provider.parse_report(incoming), utcnow())
    return Response(None, status_code=204)


@post(f"{REPORTS_PATH}/twilio", name="sms_report_twilio", opt=CSRF_EXEMPT, status_code=204)
async def twilio_report(request: Request[Any, Any, Any]) -> Response[None]:
    return await _receive(request, "twilio", token="")


@route(
    f"{REPORTS_PATH}/{{backend:str}}/{{token:str}}",
    http_method=["GET", "POST"],
    name="sms_report",
    opt=CSRF_EXEMPT,
    status_code=204,
)
async def token_report(
    request: Request[Any, Any, Any], backend: FromPath[str], token: FromPath[str]
) -> Response[None]:
    if backend not in TOKEN_BACKENDS:
        raise NotFoundException()
    return await _receive(request, backend, token)


handlers = [twilio_report, token_report]
