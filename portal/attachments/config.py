"""What the attachment handlers need from the settings, built once in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException

from portal.attachments.storage import AttachmentStore, LocalDiskStore
from portal.settings import MAX_ATTACHMENT_BYTES, Settings

ONE_FILE_MAX_BODY = MAX_ATTACHMENT_BYTES + 256 * 1024
"""The body of a one-file upload: the largest file any configuration allows, and the form
around it. The configured limit is checked on the file itself, with a Thai message."""
TEXT_FORM_MAX_BODY = 1_000_000
"""A form without files keeps the app-wide body limit (``portal.app.MAX_BODY_BYTES``)."""
FORM_WITH_FILES_MAX_BODY = 5 * 10 * 1024 * 1024 + 1024 * 1024
"""Without JavaScript the form posts its files together: five files of the default 10 MB
(with JavaScript each file travels alone, under ``ONE_FILE_MAX_BODY``)."""


@dataclass(frozen=True)
class AttachmentConfig:
    store: AttachmentStore
    max_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> AttachmentConfig:
        return cls(
            store=LocalDiskStore(settings.data_dir / "uploads"),
            max_bytes=settings.attachment_max_bytes,
        )


def refuse_large_text_form(request: Request[Any, Any, Any]) -> None:
    """413 for a large body that carries no files: only multipart forms may be big."""
    content_type = request.headers.get("content-type", "")
    length = request.headers.get("content-length", "")
    if content_type.startswith("multipart/form-data"):
        return
    if length.isascii() and length.isdigit() and int(length) > TEXT_FORM_MAX_BODY:
        raise HTTPException(status_code=413)
