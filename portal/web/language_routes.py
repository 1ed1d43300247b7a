"""The language switch: a link on every citizen page, remembered in a cookie."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from portal.web.i18n import LANGUAGE_COOKIE, LANGUAGES

ONE_YEAR = 60 * 60 * 24 * 365


@get("/lang/{code:str}", name="set_language")
async def set_language(
    request: Request[Any, Any, Any],
    code: FromPath[str],
    next_path: Annotated[str, QueryParameter(name="next")] = "/",
) -> Redirect:
    """Keeps the page: back to where the citizen was (only paths on this site)."""
    if code not in LANGUAGES:
        raise NotFoundException()
    target = next_path if next_path.startswith("/") and not next_path.startswith("//") else "/"
    response = Redirect(path=target, status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE,
        code,
        max_age=ONE_YEAR,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
