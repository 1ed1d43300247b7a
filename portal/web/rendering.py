"""Page or partial from the same markup, and Post/Redirect/Get that htmx understands."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.plugins.htmx import HXLocation
from litestar.response import Redirect, Template

MAIN = "#main"
DIALOG = "#dialog-body"


def wants_partial(request: Request[Any, Any, Any]) -> bool:
    """An htmx request that is not a boosted page load gets the partial alone."""
    htmx = getattr(request, "htmx", None)
    # A history restore (the back button, with htmx's page cache off so personal pages never
    # sit in localStorage) swaps the whole page in: it needs the page, not the partial.
    return (
        htmx is not None
        and bool(htmx)
        and not bool(htmx.boosted)
        and not bool(htmx.history_restore_request)
    )


def step_target(request: Request[Any, Any, Any], default: str = DIALOG) -> str:
    """Where the next step goes: wherever this htmx request swaps (the dialog, or the page's
    main area when the step was opened as a page), or ``default``."""
    htmx = getattr(request, "htmx", None)
    target = htmx.target if htmx is not None and htmx else None
    return f"#{target}" if target else default


def render(
    request: Request[Any, Any, Any],
    *,
    page: str,
    partial: str,
    context: Mapping[str, Any],
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Template:
    return Template(
        template_name=partial if wants_partial(request) else page,
        context={
            **context,
            "step_target": step_target(request) if wants_partial(request) else MAIN,
        },
        status_code=status_code,
        headers=dict(headers or {}),
    )


def path_for(request: Request[Any, Any, Any], route_name: str, **params: Any) -> str:
    """The path of a route as this request's browser must ask for it: with the development
    office prefix (``/o/<slug>``, the ASGI root path) when the request came through one."""
    path = request.app.route_reverse(route_name, **params)
    root = str(request.scope.get("root_path", ""))
    return f"{root}{path}" if root and not path.startswith(root + "/") else path


def go_to(
    request: Request[Any, Any, Any],
    route_name: str,
    *,
    target: str = MAIN,
    query: str = "",
    **params: Any,
) -> Response[Any]:
    """303 for browsers, HX-Location for htmx: either way a refresh never re-submits."""
    path = path_for(request, route_name, **params)
    if query:
        path = f"{path}?{query}"
    if wants_partial(request):
        return HXLocation(redirect_to=path, target=target, swap="innerHTML", status_code=200)
    return Redirect(path=path, status_code=303)


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"
