"""The table ``portal --help`` prints names every variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

import portal.settings
import portal.settings_parsing
from portal.settings_catalogue import ENV_VARS


def test_every_variable_settings_read_is_in_the_catalogue() -> None:
    modules = (portal.settings, portal.settings_parsing)  # load_settings and its readers
    source = "".join(Path(str(module.__file__)).read_text(encoding="utf-8") for module in modules)
    read = set(re.findall(r"PORTAL_[A-Z0-9_]+", source))
    assert len(read) > 30
    assert read - {var.name for var in ENV_VARS} == set()


def test_each_variable_is_listed_once_with_a_default_and_a_meaning() -> None:
    names = [var.name for var in ENV_VARS]
    assert len(names) == len(set(names))
    assert all(var.default and var.meaning for var in ENV_VARS)
