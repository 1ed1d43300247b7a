"""The package and the lock files agree with pyproject.toml.

A data file that ``[tool.setuptools.package-data]`` does not name is left out of the wheel
and the installed portal fails on it (the English catalogue once did); a pin changed in
pyproject.toml without ``scripts/lock`` leaves ``scripts/setup`` installing the old version.
``scripts/check-wheel`` proves the same end to end; these catch it in a second.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def locked(name: str) -> dict[str, str]:
    """Package name to version, for every entry of ``requirements/<name>``."""
    versions = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        match = LOCKED.match(line)
        if match:
            versions[canonicalize_name(match.group(1))] = match.group(2)
    return versions


def pins(requirements: list[str]) -> dict[str, str]:
    versions = {}
    for text in requirements:
        requirement = Requirement(text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{text} is not pinned exactly"
        versions[canonicalize_name(requirement.name)] = specifier.version
    return versions


def test_the_lock_holds_every_pin_of_pyproject_at_its_version() -> None:
    runtime = pins(PYPROJECT["project"]["dependencies"])
    test = pins(PYPROJECT["project"]["optional-dependencies"]["test"])
    lock, runtime_lock = locked("lock.txt"), locked("runtime.txt")
    assert {name: lock.get(name) for name in runtime | test} == runtime | test
    assert {name: runtime_lock.get(name) for name in runtime} == runtime
    # The runtime lock is the runtime part of the full lock, at the same versions.
    assert {name: lock.get(name) for name in runtime_lock} == runtime_lock
    assert not set(test) & set(runtime_lock)


def test_the_build_backend_is_locked_at_its_pin() -> None:
    assert locked("build.txt") == pins(PYPROJECT["build-system"]["requires"])


def test_every_locked_release_carries_hashes() -> None:
    for name in ("lock.txt", "runtime.txt", "build.txt"):
        entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements" / name).read_text())
        for entry in entries:
            if LOCKED.match(entry):
                assert "--hash=sha256:" in entry, f"{name}: {entry.splitlines()[0]}"


def test_uvicorn_comes_with_its_fast_parser_and_event_loop() -> None:
    assert {"uvloop", "httptools"} <= set(locked("runtime.txt"))


def test_package_data_names_every_data_file_of_the_package() -> None:
    package = ROOT / "portal"
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["portal"]
    packaged = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    data_files = {
        path
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }
    assert sorted(str(path.relative_to(package)) for path in data_files - packaged) == []
    assert package / "locale" / "en" / "LC_MESSAGES" / "messages.po" in packaged
