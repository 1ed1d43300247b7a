"""Where attachment files live: a small interface, and the local-disk default.

The portal only ever needs three things from a store: keep these bytes under a key, give
them back, forget them. Keys are random (``new_key``), never the citizen's file name, so a
name cannot reach outside the store or say anything about the person.

An S3-compatible store (MinIO, Ceph, AWS, Wasabi) for several machines implements the same
three methods: ``put`` is ``PutObject(Bucket, Key=key, Body=data)``, ``open`` is
``GetObject`` (its ``NoSuchKey`` raised as ``MissingFile``), ``delete`` is ``DeleteObject``
(which already succeeds for a missing key). The bucket must be private: files are only ever
served through the portal's routes, which check who is asking. Writes happen before the
database row is committed, so a crash leaves at worst an orphan file, never a row pointing
nowhere that a citizen was told is saved.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Protocol

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}\.(?:jpg|pdf)")


class MissingFile(LookupError):
    """No file under that key (never stored, or deleted)."""


class AttachmentStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def open(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None:
        """Forget the file; a key that is already gone is not an error."""
        ...


def new_key(extension: str) -> str:
    """192 random bits and the stored format's extension (``jpg`` or ``pdf``)."""
    return f"{secrets.token_urlsafe(24)}.{extension}"


class LocalDiskStore:
    """Files under ``PORTAL_DATA_DIR/uploads/<first two characters>/<key>``, written whole
    (a temporary name, then ``os.replace``) so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not KEY_PATTERN.fullmatch(key):
            raise MissingFile(key)
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{key}.{secrets.token_hex(4)}.part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    def open(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as error:
            raise MissingFile(key) from error

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except MissingFile:
            return
