"""Piccolo's configuration module (``PICCOLO_CONF=portal.piccolo_conf``).

Piccolo looks up ``DB`` here every time it needs an engine. The portal replaces ``DB`` with the
engine built from its ``Settings`` (see ``portal.db.configure_database``); the value below only
serves the Piccolo CLI, e.g. ``piccolo migrations new portal --auto`` while developing.
"""

import os
from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine

from portal.db import engine_for_url
from portal.settings import database_url_from_env

DB: Engine[Any] = engine_for_url(database_url_from_env(os.environ))

APP_REGISTRY = AppRegistry(apps=["portal.tables.piccolo_app"])
