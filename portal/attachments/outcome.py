"""What checking an upload ends in: the copy to keep, or the reason it is refused."""

from __future__ import annotations

from dataclasses import dataclass


class UploadRejected(ValueError):
    """``code``: empty, too_large, wrong_type, corrupt, too_many_pixels, heic_unsupported,
    pdf_active, too_many (files), too_many_pending (files on forms not sent, per phone),
    missing (a pending upload gone), already_sent (the form was filed already)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def http_status(self) -> int:
        """The answer's status: 413 for a file too large, 409 for a form already sent,
        otherwise 422 (the same for the citizen's upload and staff's "after" photo)."""
        return {"too_large": 413, "already_sent": 409}.get(self.code, 422)


@dataclass(frozen=True)
class Processed:
    content_type: str
    extension: str
    data: bytes
    preview: bytes | None
    """A small JPEG for photos; ``None`` for PDFs (the page shows an icon instead)."""
    width: int = 0
    height: int = 0
