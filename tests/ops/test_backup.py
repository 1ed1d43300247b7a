"""``portal backup DEST`` / ``portal restore SRC``: a request and its photo made through the
services come back in a fresh data folder; a running writer does not block or tear the copy;
nothing is overwritten without ``--force``. PostgreSQL (``pg_dump``/``pg_restore``) when the
run has one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.attachments.config import AttachmentConfig
from portal.attachments.storage import LocalDiskStore
from portal.catalogue.service import seed_default_services
from portal.cli import main
from portal.db import configure_database, current_engine, migrate
from portal.settings import Settings
from portal.staff.accounts import create_account
from portal.tables.attachment import Attachment
from portal.tables.citizen_request import CitizenRequest
from tests.attachments.helpers import attach_after_photo
from tests.conftest import TEST_SECRET, fresh, make_settings
from tests.conftest import _empty_tables as empty_tables
from tests.offices import create_office
from tests.offices import office_ref as office_by_id
from tests.staff.helpers import file_direct, office_ref

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def use(monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str) -> None:
    """Point the ``portal`` command at this data folder and database."""
    for name in [key for key in os.environ if key.startswith("PORTAL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data_dir))
    monkeypatch.setenv("PORTAL_DATABASE_URL", url)
    monkeypatch.setenv("PORTAL_SECRET_KEY", TEST_SECRET)


def portal(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fill(settings: Settings) -> tuple[str, bytes]:
    """A filed request with a staff "after" photo; returns its number and the photo's bytes."""
    filed = file_direct(None, "+66812345678")

    async def photo() -> bytes:
        created = await create_account(
            office=await office_ref(settings),
            username="somchai",
            role="officer",
            display_name="สมชาย",
            actor="test",
            enrolment_key=settings.derive_key("staff-enrolment"),
            totp_key=settings.derive_key("staff-totp"),
        )
        await attach_after_photo(settings, filed.number, created.account.id)
        row = await Attachment.select(Attachment.storage_key).first()
        assert row is not None
        return AttachmentConfig.from_settings(settings).store.open(str(row["storage_key"]))

    return filed.number, fresh(photo)


@pytest.fixture
def source(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    """A fresh SQLite portal (whatever database the run uses), put back afterwards."""
    settings = make_settings(tmp_path / "old", f"sqlite:///{tmp_path / 'old' / 'portal.sqlite3'}")
    configure_database(settings.database_url)
    fresh(migrate)
    fresh(seed_default_services)
    yield settings
    configure_database(database_url)


def test_backup_then_restore_into_a_fresh_data_folder(
    source: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    number, photo = fill(source)
    dest = tmp_path / "backups" / "monday"
    use(monkeypatch, source.data_dir, source.database_url)
    code, out, err = portal(capsys, "backup", str(dest))
    assert (code, err) == (0, "")
    assert "citizen_request 1" in out and "PORTAL_SECRET_KEY" in out
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["database"] == "sqlite" and manifest["counts"]["citizen_request"] == 1
    assert manifest["counts"]["attachment"] == 1 and manifest["upload_files"] == 2  # + preview
    assert manifest["counts"]["office"] == 1  # every office's rows are in the one database
    assert len(manifest["migrations"]) >= 5
    assert sorted(p.name for p in dest.iterdir()) == ["manifest.json", "portal.sqlite3", "uploads"]
    assert not list(dest.parent.glob(".*partial"))

    new_dir = tmp_path / "new"
    fresh_url = f"sqlite:///{new_dir / 'db' / 'portal.sqlite3'}"
    use(monkeypatch, new_dir, fresh_url)
    code, out, err = portal(capsys, "restore", str(dest))
    assert (code, err) == (0, "")
    assert "2 files" in out
    configure_database(fresh_url)
    assert fresh(lambda: CitizenRequest.count().where(CitizenRequest.number == number)) == 1
    key = fresh(lambda: Attachment.select(Attachment.storage_key).first())["storage_key"]
    assert LocalDiskStore(new_dir / "uploads").open(str(key)) == photo
    assert portal(capsys, "migrate")[0] == 0  # a restored database starts like any other


def test_restore_does_not_overwrite_without_force_and_keeps_the_old_copy(
    source: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    number, _ = fill(source)
    use(monkeypatch, source.data_dir, source.database_url)
    assert portal(capsys, "backup", str(tmp_path / "b"))[0] == 0
    fresh(lambda: CitizenRequest.update({CitizenRequest.status: "closed"}, force=True))

    code, out, err = portal(capsys, "restore", str(tmp_path / "b"))
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and "PORTAL_DATABASE_URL" in err and "--force" in err

    current_engine().close_all()  # the portal is stopped for a restore
    code, out, err = portal(capsys, "restore", "--force", str(tmp_path / "b"))
    assert (code, err) == (0, "")
    kept = sorted(
        p.name
        for p in source.data_dir.glob("*.before-restore-*")
        if not p.name.endswith(("-wal", "-shm"))  # the old file's log, renamed with it
    )
    assert [name.split(".before")[0] for name in kept] == ["portal.sqlite3", "uploads"]
    assert f"kept at {source.data_dir / kept[0]}" in out
    old = sqlite3.connect(source.data_dir / kept[0])
    assert old.execute("SELECT status FROM citizen_request").fetchall() == [("closed",)]
    old.close()
    configure_database(source.database_url)
    row = fresh(lambda: CitizenRequest.select(CitizenRequest.status).first())
    assert row["status"] != "closed"
    assert fresh(lambda: CitizenRequest.count().where(CitizenRequest.number == number)) == 1


def test_a_writer_in_the_middle_of_a_transaction_neither_blocks_nor_leaks_into_the_copy(
    source: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    fill(source)
    writer = sqlite3.connect(source.database_url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM audit_event")
    try:
        use(monkeypatch, source.data_dir, source.database_url)
        assert portal(capsys, "backup", str(tmp_path / "b"))[0] == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(tmp_path / "b" / "portal.sqlite3")
    audited = copy.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    assert audited > 0 and copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copy.close()


def test_bad_destinations_and_sources_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    use(monkeypatch, data, f"sqlite:///{data / 'portal.sqlite3'}")
    code, _, err = portal(capsys, "backup", str(tmp_path / "b"))
    assert code == 1 and "no database" in err and "PORTAL_DATABASE_URL" in err
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("x")
    code, _, err = portal(capsys, "backup", str(taken))
    assert code == 1 and "DEST" in err and err.count("\n") == 1
    code, _, err = portal(capsys, "restore", str(taken))
    assert code == 1 and "manifest.json" in err and err.count("\n") == 1
    (taken / "manifest.json").write_text(json.dumps({"format": 1, "database": "postgresql"}))
    code, _, err = portal(capsys, "restore", str(taken))
    assert code == 1 and "postgresql backup" in err
    assert not data.joinpath("portal.sqlite3").exists()


@pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="run under scripts/with-postgres")
def test_postgres_backup_and_restore(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """pg_dump, never showing the password; pg_restore --force brings a deleted request back."""
    settings = make_settings(tmp_path, database)
    number, photo = fill(settings)
    # Every office's rows, under the tables' row security (pg_dump --enable-row-security).
    other = fresh(office_by_id(fresh(create_office("nongbua"))))
    other_number = file_direct(None, "+66812345679", office=other).number
    use(monkeypatch, tmp_path, database)
    code, out, err = portal(capsys, "backup", str(tmp_path / "b"))
    assert (code, err) == (0, "")
    password = PG_URL.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    assert password not in out
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["database"] == "postgresql" and manifest["counts"]["citizen_request"] == 2
    assert manifest["counts"]["office"] == 2
    assert (tmp_path / "b" / "portal.pgdump").read_bytes()[:5] == b"PGDMP"

    fresh(empty_tables)  # every request, its events, messages and photos gone
    assert fresh(lambda: CitizenRequest.count()) == 0
    code, out, err = portal(capsys, "restore", str(tmp_path / "b"))
    assert code == 1 and "--force" in err
    code, out, err = portal(capsys, "restore", "--force", str(tmp_path / "b"))
    assert (code, err) == (0, "")
    configure_database(database)
    assert fresh(lambda: CitizenRequest.count().where(CitizenRequest.number == number)) == 1
    key = fresh(lambda: Attachment.select(Attachment.storage_key).first())["storage_key"]
    assert LocalDiskStore(tmp_path / "uploads").open(str(key)) == photo
    restored = fresh(
        lambda: CitizenRequest.count().where(
            (CitizenRequest.number == other_number) & (CitizenRequest.office == other.id)
        )
    )
    assert restored == 1
