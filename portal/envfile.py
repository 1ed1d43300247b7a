"""The ``.env`` file every ``portal`` command reads before its settings.

An operator copies ``.env.example`` to ``.env`` and edits it; if nothing read that file, a
``PORTAL_ENV=production`` written there would be silently ignored and the portal would start in
development, with ``/dev/sms`` showing every code. So ``portal`` reads ``./.env`` (or the file
``PORTAL_ENV_FILE`` names) into ``os.environ`` at start-up; ``portal serve``'s worker processes
inherit it. Rules, chosen so the file can only add to what the service manager set:

- a variable already in the real environment wins over the file (systemd, docker, a shell
  ``export`` stay in charge);
- values are literal: ``$`` is not expanded, so a password holding ``$`` stays as written;
- a line python-dotenv cannot read, or a name with no ``=``, is an error naming the line,
  never a line silently skipped (a skipped ``PORTAL_ENV=production`` is the bug above);
- a file named by ``PORTAL_ENV_FILE`` that does not exist is an error; a missing ``./.env`` is not.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv.parser import parse_stream

ENV_FILE_VARIABLE = "PORTAL_ENV_FILE"
DEFAULT_ENV_FILE = ".env"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})  # noqa: S104 - names, not binds


class EnvFileError(ValueError):
    """The ``.env`` file cannot be read as ``NAME=value`` lines: the portal must not start."""


@dataclass(frozen=True)
class EnvFile:
    """What one ``.env`` file holds; ``path`` is None when there was none to read."""

    path: Path | None = None
    values: dict[str, str] = field(default_factory=dict)


def env_file_path(environ: Mapping[str, str], cwd: Path) -> tuple[Path, bool]:
    """The file to read, and whether the operator named it (then it must exist)."""
    named = environ.get(ENV_FILE_VARIABLE, "").strip()
    if named:
        return (cwd / named).resolve(), True
    return cwd / DEFAULT_ENV_FILE, False


def parse_env_text(text: str, label: str) -> dict[str, str]:
    """``NAME=value`` pairs of a ``.env`` text; any line python-dotenv would skip is an error."""
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        # python-dotenv counts blank lines before a binding as part of it.
        leading = original[: len(original) - len(original.lstrip())]
        line = binding.original.line + leading.count("\n")
        if binding.error:
            shown = (original.strip().splitlines() or [""])[0][:40]
            raise EnvFileError(f"{label} line {line}: cannot read {shown!r}; write NAME=value")
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise EnvFileError(f"{label} line {line}: {binding.key} has no '=value'")
        values[binding.key] = binding.value
    return values


def read_env_file(environ: Mapping[str, str], cwd: Path) -> EnvFile:
    path, named = env_file_path(environ, cwd)
    if not path.is_file():
        if named:
            raise EnvFileError(f"{ENV_FILE_VARIABLE} names {path}, which is not a file")
        return EnvFile()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise EnvFileError(f"{path} is not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise EnvFileError(f"cannot read {path}: {error.strerror}") from None
    return EnvFile(path=path, values=parse_env_text(text, str(path.name)))


def apply_env_file(env_file: EnvFile, environ: MutableMapping[str, str]) -> list[str]:
    """Copy the file's values into ``environ`` where it has none; the names copied."""
    added = [name for name in env_file.values if name not in environ]
    for name in added:
        environ[name] = env_file.values[name]
    return added


def is_public_https(url: str) -> bool:
    """An https address anyone could reach: not this machine's own loopback name."""
    parts = urlsplit(url.strip())
    return parts.scheme == "https" and (parts.hostname or "") not in LOCAL_HOSTS


def refuse_development_behind_public_url(
    env_file: EnvFile, environ: Mapping[str, str], added: list[str]
) -> None:
    """A ``.env`` that leaves the portal in development while naming a public https address.

    That file describes a production portal whose operator kept ``.env.example``'s
    ``PORTAL_ENV=development`` line (or deleted the line): it would show every code on
    ``/dev/sms`` to the public. A developer who wants exactly that exports ``PORTAL_ENV``
    in the real environment, which this check leaves alone.
    """
    if env_file.path is None or ("PORTAL_ENV" in environ and "PORTAL_ENV" not in added):
        return
    if environ.get("PORTAL_ENV", "development") != "development":
        return
    base_url = environ.get("PORTAL_BASE_URL", "")
    if is_public_https(base_url):
        raise EnvFileError(
            f"{env_file.path.name} sets PORTAL_ENV=development (or leaves it unset) with"
            f" PORTAL_BASE_URL={base_url}, a public address: set PORTAL_ENV=production"
        )


def load_env_file(
    environ: MutableMapping[str, str] | None = None, cwd: Path | None = None
) -> EnvFile:
    """Read the ``.env`` file into ``environ`` (``os.environ``) and refuse a development portal
    published at a public address; called by ``portal`` before ``load_settings``."""
    target = os.environ if environ is None else environ
    env_file = read_env_file(target, cwd or Path.cwd())
    added = apply_env_file(env_file, target)
    refuse_development_behind_public_url(env_file, target, added)
    return env_file
