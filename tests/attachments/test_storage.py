"""The local-disk store: random keys, whole files, nothing outside its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.attachments.storage import LocalDiskStore, MissingFile, new_key


def test_put_open_delete(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path / "uploads")
    key = new_key("jpg")
    store.put(key, b"photo bytes")
    assert store.open(key) == b"photo bytes"
    stored = tmp_path / "uploads" / key[:2] / key
    assert stored.stat().st_mode & 0o077 == 0  # readable by the portal's user only
    store.delete(key)
    with pytest.raises(MissingFile):
        store.open(key)
    store.delete(key)  # already gone: not an error


def test_keys_are_random_and_never_a_name(tmp_path: Path) -> None:
    keys = {new_key("jpg") for _ in range(100)}
    assert len(keys) == 100
    store = LocalDiskStore(tmp_path)
    for bad in ("../../etc/passwd", "photo.jpg", "x" * 32 + ".exe", ""):
        with pytest.raises(MissingFile):
            store.open(bad)
        with pytest.raises(MissingFile):
            store.put(bad, b"x")
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def test_no_partial_file_is_left_behind(tmp_path: Path) -> None:
    store = LocalDiskStore(tmp_path)
    key = new_key("pdf")
    store.put(key, b"%PDF-1.4")
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [key]
