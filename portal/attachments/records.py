"""What an attachment row says, in the shape every reader gets, and the row a stored file
becomes. The upload path (``pending``, ``after_photos``) writes rows; ``media`` and
``downloads`` read them."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.attachments.outcome import Processed
from portal.kernel.clock import utcnow
from portal.tables.attachment import Attachment

NAME_MAX = 200


@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    stage: str
    content_type: str
    original_name: str
    size: int
    has_preview: bool
    created_at: datetime

    @property
    def is_photo(self) -> bool:
        return self.content_type.startswith("image/")


@dataclass(frozen=True)
class StoredFile:
    info: AttachmentInfo
    data: bytes


COLUMNS = (
    Attachment.id,
    Attachment.stage,
    Attachment.content_type,
    Attachment.original_name,
    Attachment.size,
    Attachment.preview_key,
    Attachment.storage_key,
    Attachment.created_at,
)
"""What every reader selects: ``row_info`` needs these, ``downloads`` the storage keys too."""


def row_info(row: dict[str, Any]) -> AttachmentInfo:
    return AttachmentInfo(
        id=int(row["id"]),
        stage=row["stage"],
        content_type=row["content_type"],
        original_name=row["original_name"],
        size=int(row["size"]),
        has_preview=bool(row["preview_key"]),
        created_at=row["created_at"],
    )


def display_name(raw: str) -> str:
    """The picked file's name, for people only (never a path or a storage key): its last
    part, without control characters, at most ``NAME_MAX`` characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    return name.strip()[:NAME_MAX]


def stored_row(
    processed: Processed, key: str, preview_key: str, original_name: str, **owner: Any
) -> Attachment:
    """The row for a file just stored: what it is, from ``processed``; whose, from ``owner``
    (a citizen's pending upload or staff's "after" photo)."""
    return Attachment(
        content_type=processed.content_type,
        original_name=display_name(original_name),
        size=len(processed.data),
        storage_key=key,
        preview_key=preview_key,
        sha256=hashlib.sha256(processed.data).hexdigest(),
        created_at=utcnow(),
        **owner,
    )
