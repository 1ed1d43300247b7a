"""Error pages in Thai, for browsers and htmx alike; the status code always tells the truth."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from portal.web.access_log import redact_path
from portal.web.hardening import CrossSiteNavigation
from portal.web.rendering import wants_partial
from portal.web.request_id import current_request_id

CSRF_COOKIE = "portal_csrf"
"""Not Litestar's default ``csrftoken``: piccolo-admin sets a cookie of that name. Outside
development it is ``__Host-portal_csrf`` (``portal.web.security_headers.cookie_name``)."""

logger = logging.getLogger("portal")

_POSTGRES_UNAVAILABLE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now, timeout
    asyncpg.exceptions.LockNotAvailableError,  # lock_timeout (PORTAL_DATABASE_LOCK_TIMEOUT)
    asyncpg.exceptions.QueryCanceledError,  # statement_timeout (PORTAL_DATABASE_STATEMENT_TIMEOUT)
    # A connection the server ended while idle in the pool (a restart, pg_terminate_backend)
    # can fail its next query with "cannot switch to state ..."; the pool then replaces it.
    asyncpg.exceptions.InternalClientError,
)


def _error_response(request: Request[Any, Any, Any], status_code: int) -> Template:
    """The page shows the request's id as a reference number: a citizen who calls the office
    with it leads the IT person to the log lines of this very request."""
    template = "errors/_message.html" if wants_partial(request) else "errors/page.html"
    return Template(
        template_name=template,
        context={"status_code": status_code, "reference": current_request_id()},
        status_code=status_code,
    )


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 401:
        # Only the back office answers 401: send the browser to its sign-in page.
        path = request.app.route_reverse("staff_sign_in")
        if wants_partial(request):
            return Response(content=None, status_code=200, headers={"HX-Redirect": path})
        return Redirect(path=path, status_code=303)
    if isinstance(exc, CrossSiteNavigation):
        return _cross_site_page(request)
    response = _error_response(request, exc.status_code)
    if exc.headers:
        response.headers.update(exc.headers)
    csrf = request.app.csrf_config
    if exc.status_code == 403 and csrf is not None and csrf.cookie_name in request.cookies:
        # A CSRF cookie signed with an old secret is never replaced by Litestar; drop it so
        # that "reload and try again", which the page tells people, really works. Dropped
        # with the attributes it was set with: a browser ignores an unset ``__Host-`` cookie
        # that is not ``Secure`` with ``Path=/``.
        response.set_cookie(
            csrf.cookie_name,
            "",
            max_age=0,
            expires=0,
            path=csrf.cookie_path,
            secure=csrf.cookie_secure,
            httponly=csrf.cookie_httponly,
            samesite=csrf.cookie_samesite,
        )
    return response


def _cross_site_page(request: Request[Any, Any, Any]) -> Template:
    """The same address as a link (relative: it can only lead back into the portal)."""
    query = request.url.query
    return Template(
        template_name="errors/cross_site.html",
        context={"continue_url": request.url.path + (f"?{query}" if query else "")},
        status_code=403,
    )


DATABASE_RETRY_AFTER = "5"


def database_unavailable(exc: BaseException) -> bool:
    """The database is busy or gone for a moment: SQLite still locked after its busy timeout,
    PostgreSQL restarting, a connection it dropped, or a lock or statement timeout. The
    request's transaction rolled back, so trying again is safe; say so with a 503."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, sqlite3.OperationalError):
            message = str(error).lower()
            if "locked" in message or "busy" in message:
                return True
        if isinstance(error, (*_POSTGRES_UNAVAILABLE, ConnectionError)):
            return True
        if isinstance(error, asyncpg.exceptions.InterfaceError) and "closed" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Redacted like the access log: a tracking link's token must not reach the logs.
    path = redact_path(request.url.path)
    if database_unavailable(exc):
        logger.warning(
            "database unavailable on %s %s: %r",
            request.method,
            path,
            exc,
            extra={"request_id": current_request_id()},
        )
        response = _error_response(request, 503)
        response.headers["Retry-After"] = DATABASE_RETRY_AFTER
        return response
    logger.exception(
        "unhandled error on %s %s",
        request.method,
        path,
        exc_info=exc,
        extra={"request_id": current_request_id()},
    )
    return _error_response(request, 500)
