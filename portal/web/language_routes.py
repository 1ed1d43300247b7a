"""The language switch: a link on every citizen page, remembered in a cookie."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from portal.settings import Settings
from portal.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from portal.web.security_headers import cookie_name

ONE_YEAR = 60 * 60 * 24 * 365


@get("/lang/{code:str}", name="set_language")
async def set_language(
    settings: NamedDependency[Settings],
    code: FromPath[str],
    next_path: Annotated[str, QueryParameter(name="next")] = "/",
) -> Redirect:
    """Keeps the page: back to where the citizen was (only paths on this site)."""
    if code not in LANGUAGES:
        raise NotFoundException()
    target = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
    response = Redirect(path=target, status_code=303)
    # Like every cookie: ``__Host-`` and Secure outside development, whatever scheme a proxy
    # in front of the portal forwards.
    secure = not settings.is_development
    response.set_cookie(
        cookie_name(LANGUAGE_COOKIE, secure=secure),
        code,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response
