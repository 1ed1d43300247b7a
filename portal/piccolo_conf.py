"""Piccolo's configuration module (``PICCOLO_CONF=portal.piccolo_conf``).

Piccolo looks up ``DB`` here every time it needs an engine. The portal sets ``DB`` to the
engine built from its ``Settings`` (see ``portal.db.configure_database``). Until then, reading
``DB`` (only Piccolo's own CLI does, e.g. ``piccolo migrations new portal --auto`` while
developing) builds an engine from ``PORTAL_DATABASE_URL``: nothing connects or creates files
when this module is imported. Both build engines with ``portal.db_engines``, so this module
and ``portal.db`` do not import each other.
"""

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

APP_REGISTRY = AppRegistry(apps=["portal.tables.piccolo_app"])

DB: Engine[Any]


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    from portal.db_engines import engine_for_url
    from portal.settings import database_url_from_env

    engine = engine_for_url(database_url_from_env(os.environ))
    globals()["DB"] = engine
    return engine
