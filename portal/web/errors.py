"""Error pages in Thai, for browsers and htmx alike; the status code always tells the truth."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from portal.web.rendering import wants_partial

CSRF_COOKIE = "portal_csrf"
"""Not Litestar's default ``csrftoken``: piccolo-admin sets a cookie of that name."""

logger = logging.getLogger("portal")


def _error_response(request: Request[Any, Any, Any], status_code: int) -> Template:
    template = "errors/_message.html" if wants_partial(request) else "errors/page.html"
    return Template(
        template_name=template, context={"status_code": status_code}, status_code=status_code
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 401:
        # Only the back office answers 401: send the browser to its sign-in page.
        path = request.app.route_reverse("staff_sign_in")
        if wants_partial(request):
            return Response(content=None, status_code=200, headers={"HX-Redirect": path})
        return Redirect(path=path, status_code=303)
    response = _error_response(request, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    if exc.status_code == 403 and CSRF_COOKIE in request.cookies:
        # A CSRF cookie signed with an old secret is never replaced by Litestar; drop it so
        # that "reload and try again", which the page tells people, really works.
        response.delete_cookie(CSRF_COOKIE)
    return response


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error_response(request, 500)
