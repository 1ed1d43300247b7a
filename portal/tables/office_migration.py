"""The migration that gave every row an office (``portal_2026_12_03t19_31_27_621492``).

Piccolo's own steps cannot do it on both databases: SQLite refuses to add a ``NOT NULL ...
REFERENCES`` column while foreign keys are enforced and cannot drop a column's ``UNIQUE``
(service slugs, usernames and request numbers become unique per office), and Piccolo runs raw
steps before it creates tables. So the migration declares the final schema to Piccolo (which is
what ``piccolo migrations new --auto`` compares the tables with) and runs this DDL instead:

1. create ``office`` and ``office_host`` (Piccolo's own step, from the declared columns);
2. insert the default office, id 1, which every existing row then belongs to;
3. add ``office`` to every office-owned table (PostgreSQL: ``DEFAULT 1`` only while adding);
4. swap the three single-column uniques for ``(office, ...)`` ones (SQLite: by rebuilding the
   table from its own ``CREATE TABLE`` text, the procedure SQLite documents);
5. add the indexes that lead with ``office`` for the queries that filter by it.

On SQLite ``portal.db`` turns foreign-key enforcement off around migrations (it cannot change
inside a transaction) and this step runs ``PRAGMA foreign_key_check`` before the commit.
"""

from __future__ import annotations

import re
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

OWNED_TABLES = (
    "service",
    "staff_user",
    "citizen_request",
    "request_event",
    "sms_message",
    "otp_challenge",
    "staff_sign_in_attempt",
    "staff_note",
    "audit_event",
    "reply_template",
    "attachment",
    "staff_enrolment",
    "upload_refusal",
    "moved_token",
    "form_draft",
)
"""Every table whose rows belong to one office (``sms_gateway_state`` is the platform's)."""

PER_OFFICE_UNIQUES = {
    "service": ("slug", "unique_office_slug"),
    "staff_user": ("username", "unique_office_username"),
    "citizen_request": ("number", "unique_office_number"),
}

OFFICE_INDEXES = {
    "citizen_request_office_created": ("citizen_request", "office, created_at"),
    "citizen_request_office_phone": ("citizen_request", "office, phone"),
    "citizen_request_office_status": ("citizen_request", "office, status"),
    "sms_message_office_created": ("sms_message", "office, created_at"),
    "otp_challenge_office_phone": ("otp_challenge", "office, phone, created_at"),
    "audit_event_office_created": ("audit_event", "office, created_at"),
    "staff_sign_in_attempt_office_user": ("staff_sign_in_attempt", "office, username"),
    "upload_refusal_office_phone": ("upload_refusal", "office, phone"),
    "reply_template_office": ("reply_template", "office"),
    "attachment_office": ("attachment", "office"),
}


class OfficeMigrationManager(MigrationManager):
    """Declares what ``--auto`` generated; runs the DDL in the module docstring."""

    async def run(self, backwards: bool = False) -> None:
        if backwards:
            raise RuntimeError("the offices migration cannot be reversed: restore a backup")
        engine: Any = engine_finder()
        async with engine.transaction():
            await self._run_add_tables()
            await _run(
                engine,
                "INSERT INTO office (id, slug, env_managed, updated_at) "
                "VALUES (1, 'default', TRUE, CURRENT_TIMESTAMP)",
            )
            if engine.engine_type == "sqlite":
                await _sqlite(engine)
            else:
                await _postgres(engine)
            for name, (table, columns) in OFFICE_INDEXES.items():
                await _run(engine, f"CREATE INDEX {name} ON {table} ({columns})")


async def _run(engine: Any, sql: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await engine.run_ddl(sql)
    return result or []


async def _postgres(engine: Any) -> None:
    await _run(engine, "SELECT setval(pg_get_serial_sequence('office', 'id'), 1)")
    for table in OWNED_TABLES:
        await _run(
            engine,
            f"ALTER TABLE {table} ADD COLUMN office INTEGER NOT NULL DEFAULT 1 "
            "REFERENCES office (id) ON DELETE RESTRICT ON UPDATE CASCADE",
        )
        await _run(engine, f"ALTER TABLE {table} ALTER COLUMN office DROP DEFAULT")
    for table, (column, constraint) in PER_OFFICE_UNIQUES.items():
        await _run(engine, f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_key")
        await _run(
            engine, f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE (office, {column})"
        )


async def _sqlite(engine: Any) -> None:
    for table in OWNED_TABLES:
        await _run(
            engine,
            f"ALTER TABLE {table} ADD COLUMN office INTEGER NOT NULL DEFAULT 1 "
            "REFERENCES office (id) ON DELETE RESTRICT ON UPDATE CASCADE",
        )
    for table, (column, constraint) in PER_OFFICE_UNIQUES.items():
        await _rebuild_without_unique(engine, table, column, constraint)
    problems = await _run(engine, "PRAGMA foreign_key_check")
    if problems:
        raise RuntimeError(f"offices migration left broken references: {problems[:5]}")


async def _rebuild_without_unique(engine: Any, table: str, column: str, constraint: str) -> None:
    rows = await _run(
        engine,
        f"SELECT type, sql FROM sqlite_master WHERE tbl_name = '{table}' AND sql NOT NULL",  # noqa: S608 (constants)
    )
    create = next(row["sql"] for row in rows if row["type"] == "table")
    indexes = [row["sql"] for row in rows if row["type"] == "index"]
    pattern = re.compile(rf'("{column}"\s+VARCHAR\(\d+\))\s+UNIQUE', re.IGNORECASE)
    if not pattern.search(create):
        raise RuntimeError(f"offices migration: no UNIQUE {table}.{column} in {create!r}")
    body = pattern.sub(r"\1", create, count=1)
    body = (
        body[: body.rstrip().rindex(")")]
        + f', CONSTRAINT {constraint} UNIQUE ("office", "{column}"))'
    )
    new_name = f"{table}__offices"
    body = re.sub(rf'^CREATE TABLE\s+"?{table}"?', f'CREATE TABLE "{new_name}"', body, count=1)
    columns = ", ".join(
        f'"{row["name"]}"' for row in await _run(engine, f"PRAGMA table_info({table})")
    )
    await _run(engine, body)
    await _run(engine, f"INSERT INTO {new_name} ({columns}) SELECT {columns} FROM {table}")  # noqa: S608
    await _run(engine, f"DROP TABLE {table}")
    await _run(engine, f"ALTER TABLE {new_name} RENAME TO {table}")
    for index in indexes:
        await _run(engine, index)


OFFICE_POLICY = (
    "COALESCE(current_setting('app.office_id', true), '') = '' "
    "OR office = NULLIF(current_setting('app.office_id', true), '')::integer"
)
"""Rows of the office ``app.office_id`` names; every row while it is unset (see
``portal.db_engines.OFFICE_SCOPE``). ``NULLIF`` keeps the cast from ever seeing ''."""


async def enable_row_security() -> None:
    """PostgreSQL: a policy per office-owned table, forced on the tables' owner too (the portal's
    own role owns them, having run the migrations), so it holds for every query the portal
    runs. SQLite has no row security: there the application's own scoping is the guard."""
    engine: Any = engine_finder()
    if engine.engine_type != "postgres":
        return
    for table in OWNED_TABLES:
        await _run(engine, f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        await _run(engine, f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        await _run(
            engine,
            f"CREATE POLICY office_isolation ON {table} "
            f"USING ({OFFICE_POLICY}) WITH CHECK ({OFFICE_POLICY})",
        )
