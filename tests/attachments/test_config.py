"""``PORTAL_ATTACHMENT_MAX_BYTES`` and where files are kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.attachments.config import AttachmentConfig
from portal.attachments.storage import LocalDiskStore
from portal.settings import SettingsError, load_settings

BASE = {"PORTAL_SECRET_KEY": "k" * 40}


def test_defaults_to_10_mb_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({**BASE, "PORTAL_DATA_DIR": str(tmp_path)})
    assert settings.attachment_max_bytes == 10 * 1024 * 1024
    config = AttachmentConfig.from_settings(settings)
    assert isinstance(config.store, LocalDiskStore)
    assert config.store.root == tmp_path.resolve() / "uploads"


@pytest.mark.parametrize("value", ["0", "abc", "1024", str(21 * 1024 * 1024)])
def test_out_of_range_limits_refuse_to_start(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="PORTAL_ATTACHMENT_MAX_BYTES"):
        load_settings(
            {**BASE, "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_ATTACHMENT_MAX_BYTES": value}
        )


def test_a_smaller_limit_is_kept(tmp_path: Path) -> None:
    env = {**BASE, "PORTAL_DATA_DIR": str(tmp_path), "PORTAL_ATTACHMENT_MAX_BYTES": "2097152"}
    assert load_settings(env).attachment_max_bytes == 2 * 1024 * 1024


def test_the_cli_cleans_unsent_uploads(
    tmp_path: Path,
    database: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portal.cli import main

    for name, value in {
        **BASE,
        "PORTAL_DATA_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": database,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["attachments", "clean"]) == 0
    assert capsys.readouterr().out.startswith("deleted 0 unsent uploads")
