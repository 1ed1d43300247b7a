"""``portal backup DEST`` and ``portal restore SRC``: the database and the uploaded files
(``portal.ops.backup`` says what a backup holds and why it is consistent)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portal.cli.commands import Commands, add_command
from portal.settings import Settings

KEY_REMINDER = (
    "The secret key is not in the backup: keep PORTAL_SECRET_KEY (and PORTAL_OLD_SECRET_KEYS) "
    "safe elsewhere; a restored portal needs it to read staff authenticators and citizen IDs."
)


def _backup(args: argparse.Namespace, settings: Settings) -> int:
    from portal.ops.backup import BackupError, backup

    try:
        report = backup(settings, Path(args.dest))
    except BackupError as error:
        print(f"backup failed: {error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{name} {count}" for name, count in report.counts.items())
    print(f"backed up the {report.database} database ({counts}) and {report.files} files")
    print(f"to {report.folder}")
    print(KEY_REMINDER)
    return 0


def _restore(args: argparse.Namespace, settings: Settings) -> int:
    from portal.ops.backup import BackupError, restore

    try:
        report = restore(settings, Path(args.src), force=args.force)
    except BackupError as error:
        print(f"restore failed: {error}", file=sys.stderr)
        return 1
    print(f"restored the {report.database} database and {report.files} files from {report.folder}")
    for path in report.moved_aside:
        print(f"the previous {path.name.split('.before-restore-')[0]} is kept at {path}")
    print("Start the portal (or run `portal migrate`): newer migrations are applied then.")
    return 0


def register(commands: Commands) -> None:
    backup = add_command(
        commands,
        "backup",
        "copy the database (SQLite online backup, or pg_dump for PostgreSQL) and the uploaded "
        "files into a new folder DEST, while the portal runs",
    )
    backup.add_argument(
        "dest", metavar="DEST", help="folder to create (must not exist or be empty)"
    )
    backup.set_defaults(handler=_backup)
    restore = add_command(
        commands,
        "restore",
        "put a backup folder made by `portal backup` back (stop the portal first)",
    )
    restore.add_argument("src", metavar="SRC", help="the backup folder")
    restore.add_argument(
        "--force",
        action="store_true",
        help="replace an existing database and uploads (SQLite file and uploads kept beside, "
        "renamed *.before-restore-TIME)",
    )
    restore.set_defaults(handler=_restore)
