"""``portal backup DEST`` and ``portal restore SRC``: the database and the uploads folder.

A backup is a folder: the database (``portal.sqlite3``, or ``portal.pgdump`` from
``pg_dump --format=custom``), ``uploads/`` (the attachment files under ``PORTAL_DATA_DIR``),
and ``manifest.json`` (portal version, time, database kind, applied migrations, row counts).

- SQLite is copied with its online backup API: a consistent snapshot while the portal keeps
  running and writing (a plain file copy of a WAL database can be torn). The copy is a single
  file (no WAL beside it).
- PostgreSQL is dumped by ``pg_dump`` from the database's own snapshot; the password goes to
  it through ``PGPASSWORD``, never on a command line or in the output.
- The database goes first, the files second: a file deleted in between is the only loss
  (a request purged during the backup), a file added in between an orphan nobody sees.
- The folder is built under a temporary name and renamed into place at the end, so a backup
  that failed half-way never looks like a finished one.
- The secret key is not in the backup (it would open what it protects): the restored portal
  needs the same ``PORTAL_SECRET_KEY`` to read staff authenticators and sealed citizen IDs.

Restoring puts the files back into the configured ``PORTAL_DATA_DIR`` and database, with the
portal stopped. It refuses to replace an existing database unless forced, and even then moves
the old SQLite file and uploads aside instead of deleting them. Migrations newer than the
backup are applied by the next ``portal migrate``/``portal serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import importlib.metadata
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from portal.db_engines import sqlite_path
from portal.settings import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "portal.sqlite3"
PG_FILE = "portal.pgdump"
UPLOADS = "uploads"
FORMAT = 1
COUNTED = ("office", "citizen_request", "attachment", "staff_user", "audit_event", "service")
"""Tables whose row counts go in the manifest: a quick look that a restore brought all back."""


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True)
class Report:
    folder: Path
    database: str
    counts: dict[str, int]
    files: int
    moved_aside: tuple[Path, ...] = ()


@dataclass(frozen=True)
class PgTools:
    """``pg_dump`` and ``pg_restore``: from PATH (Debian's wrapper picks the server's version),
    else the newest under ``/usr/lib/postgresql/*/bin`` (where Debian installs them)."""

    pg_dump: str
    pg_restore: str

    @classmethod
    def find(cls) -> PgTools:
        found = {}
        for name in ("pg_dump", "pg_restore"):
            versioned = sorted(
                glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
            )
            path = shutil.which(name) or (versioned[-1] if versioned else None)
            if path is None:
                raise BackupError(
                    f"{name} not found: install the PostgreSQL client "
                    "(apt-get install postgresql-client-15)"
                )
            found[name] = path
        return cls(found["pg_dump"], found["pg_restore"])

    def dump(self, url: str, target: Path) -> tuple[dict[str, int], list[str]]:
        dsn, env = _libpq(url)
        counts, migrations = asyncio.run(_pg_facts(url))
        # The office-owned tables have forced row security (every office's rows are visible
        # while ``app.office_id`` is unset, as here): without this pg_dump refuses them.
        _run_tool(
            [
                self.pg_dump,
                "--format=custom",
                "--enable-row-security",
                "--file",
                str(target),
                "--dbname",
                dsn,
            ],
            env,
        )
        return counts, migrations

    def restore(self, url: str, dump: Path, *, clean: bool) -> None:
        dsn, env = _libpq(url)
        args = [self.pg_restore, "--no-owner", "--no-privileges", "--single-transaction"]
        args += ["--enable-row-security"]  # see ``dump``: the policies let every office in
        if clean:
            args += ["--clean", "--if-exists"]
        _run_tool([*args, "--dbname", dsn, str(dump)], env)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment carrying it (``PGPASSWORD``)."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    env = dict(os.environ)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), env


async def _pg_facts(url: str) -> tuple[dict[str, int], list[str]]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        present = {
            row["name"]
            for row in await connection.fetch(
                "SELECT table_name AS name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        counts = {
            name: int(await connection.fetchval(f'SELECT count(*) FROM "{name}"'))  # noqa: S608
            for name in COUNTED
            if name in present
        }
        migrations = []
        if "migration" in present:
            rows = await connection.fetch("SELECT name FROM migration")
            migrations = sorted(str(row["name"]) for row in rows)
        return counts, migrations
    finally:
        await connection.close()


def _is_sqlite(settings: Settings) -> bool:
    return settings.database_url.startswith("sqlite:///")


def _version() -> str:
    try:
        return importlib.metadata.version("oss-local-portal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sqlite_facts(connection: sqlite3.Connection) -> tuple[dict[str, int], list[str]]:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    counts = {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])  # noqa: S608
        for name in COUNTED
        if name in tables
    }
    migrations = []
    if "migration" in tables:
        migrations = [row[0] for row in connection.execute("SELECT name FROM migration")]
    return counts, sorted(migrations)


def _copy_uploads(source: Path, target: Path) -> int:
    """Finished files only (not a ``.part`` being written); returns how many."""
    if not source.is_dir():
        target.mkdir(parents=True)
        return 0
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.part"))
    return sum(1 for path in target.rglob("*") if path.is_file())


def _sqlite_snapshot(source: str, target: Path) -> tuple[dict[str, int], list[str]]:
    if not os.path.exists(source):
        raise BackupError(f"no database at {source} (PORTAL_DATABASE_URL)")
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
        return _sqlite_facts(dst)


def backup(settings: Settings, dest: Path) -> Report:
    """Write a backup folder at ``dest`` (which must not exist yet, or be empty)."""
    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder (DEST)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    building = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    try:
        if _is_sqlite(settings):
            kind = "sqlite"
            counts, migrations = _sqlite_snapshot(
                sqlite_path(settings.database_url), building / SQLITE_FILE
            )
        else:
            kind = "postgresql"
            counts, migrations = PgTools.find().dump(settings.database_url, building / PG_FILE)
        files = _copy_uploads(settings.data_dir / UPLOADS, building / UPLOADS)
        manifest = {
            "format": FORMAT,
            "portal_version": _version(),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind,
            "migrations": migrations,
            "counts": counts,
            "upload_files": files,
        }
        (building / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if dest.exists():
            dest.rmdir()
        building.rename(dest)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return Report(dest, kind, counts, files)


def read_manifest(src: Path) -> dict[str, object]:
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{src} is not a portal backup: no readable {MANIFEST} (SRC)") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{src}/{MANIFEST} is not a backup this portal can restore (SRC)")
    return manifest


def _aside(path: Path, stamp: str) -> Path:
    moved = path.with_name(f"{path.name}.before-restore-{stamp}")
    path.rename(moved)
    return moved


def _restore_sqlite(src: Path, target: Path, *, stamp: str) -> list[Path]:
    """Copy the backup's database into place through SQLite (so a damaged file fails here,
    not at the portal's start); the old file and its WAL are moved aside, never deleted."""
    moved = []
    if target.exists():
        old = _aside(target, stamp)
        moved.append(old)
        # Its write-ahead log goes with it, renamed to match: the old copy opens whole.
        for suffix in ("-wal", "-shm"):
            companion = target.with_name(target.name + suffix)
            if companion.exists():
                companion.rename(old.with_name(old.name + suffix))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    partial.unlink(missing_ok=True)
    with (
        contextlib.closing(sqlite3.connect(f"file:{src / SQLITE_FILE}?mode=ro", uri=True)) as s,
        contextlib.closing(sqlite3.connect(partial)) as d,
    ):
        s.backup(d)
        if d.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise BackupError(f"{src / SQLITE_FILE} is damaged (quick_check failed)")
    os.replace(partial, target)
    return moved


def restore(settings: Settings, src: Path, *, force: bool = False) -> Report:
    """Put a backup folder back into the configured database and ``PORTAL_DATA_DIR``."""
    src = src.resolve()
    manifest = read_manifest(src)
    kind = "sqlite" if _is_sqlite(settings) else "postgresql"
    if manifest.get("database") != kind:
        raise BackupError(
            f"{src} holds a {manifest.get('database')} backup but PORTAL_DATABASE_URL is {kind}"
        )
    target = Path(sqlite_path(settings.database_url))
    if kind == "sqlite":
        has_database = target.exists() and target.stat().st_size > 0
    else:
        tools = PgTools.find()
        has_database = bool(asyncio.run(_pg_facts(settings.database_url))[0])
    if has_database and not force:
        raise BackupError(
            "the database in PORTAL_DATABASE_URL already exists; stop the portal and add "
            "--force to replace it"
        )
    uploads = settings.data_dir / UPLOADS
    if not force and uploads.is_dir() and any(uploads.iterdir()):
        raise BackupError(
            f"{uploads} (PORTAL_DATA_DIR) is not empty; stop the portal and add --force"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if kind == "sqlite":
        moved = _restore_sqlite(src, target, stamp=stamp)
    else:
        tools.restore(settings.database_url, src / PG_FILE, clean=has_database)
        moved = []
    if uploads.is_dir() and not any(uploads.iterdir()):
        uploads.rmdir()
    elif uploads.exists():
        moved.append(_aside(uploads, stamp))
    files = _copy_uploads(src / UPLOADS, uploads)
    counts = manifest.get("counts")
    return Report(src, kind, dict(counts) if isinstance(counts, dict) else {}, files, tuple(moved))


def _run_tool(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL client tool; its own error output becomes the one-line error."""
    result = subprocess.run(  # noqa: S603 (a fixed tool, arguments we build)
        args, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{Path(args[0]).name} failed: {lines[-1] if lines else 'no output'}")
    return result
