"""Static assets under content-hashed URLs, so browsers may keep them for a year.

``/assets/<digest>/app.css`` is the same file as ``/static/app.css``; the digest (first 12 hex
digits of its SHA-256) changes whenever the file does, so a deploy is picked up at once while an
unchanged file is never downloaded twice. Digests are computed once when the app is built.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

DIGEST_LENGTH = 12
ONE_YEAR = 60 * 60 * 24 * 365


@dataclass(frozen=True)
class AssetManifest:
    root: Path
    digests: dict[str, str] = field(default_factory=dict)

    @classmethod
    def scan(cls, root: Path) -> AssetManifest:
        digests = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                name = path.relative_to(root).as_posix()
                digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_LENGTH]
        return cls(root=root, digests=digests)

    def url(self, name: str) -> str:
        """The hashed URL of a static file; a missing file is a programming error."""
        return f"/assets/{self.digests[name]}/{name}"

    def file_for(self, digest: str, name: str) -> Path | None:
        """The file behind a hashed URL, only if the digest is the current one."""
        if self.digests.get(name) != digest:
            return None
        return self.root / name
