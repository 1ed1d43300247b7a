"""The portal as ``portal serve`` builds it, plus two routes that exist only in the benchmark.

``/_bench/bare`` answers a few bytes from a Litestar handler and ``/_bench/jinja`` renders the
home page's template; neither touches the database. Both go through the same server,
middleware (sessions, CSRF, compression) and workers as the citizen journeys, so they are the
ceiling the journeys are compared with. Production never imports this module: the benchmark
starts uvicorn with ``ceiling_app:create_bench_app``, with ``bench/server`` on its path.
"""

from __future__ import annotations

from litestar import Litestar, MediaType, get
from litestar.response import Template

from portal.app import create_app_from_env


@get("/_bench/bare", media_type=MediaType.TEXT, sync_to_thread=False)
def bare() -> str:
    return "ok"


@get("/_bench/jinja")
async def jinja_page() -> Template:
    return Template(template_name="citizen/home.html")


def create_bench_app() -> Litestar:
    app = create_app_from_env()
    app.register(bare)
    app.register(jinja_page)
    return app
