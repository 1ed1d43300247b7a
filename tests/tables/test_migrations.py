"""The committed migrations describe the tables exactly: no change waits for a migration."""

from __future__ import annotations

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from portal.tables.piccolo_app import APP_CONFIG
from tests.conftest import fresh


def test_tables_match_the_committed_migrations(migrated_database: str) -> None:
    statements = fresh(
        AutoMigrationManager(auto_input="y").get_alter_statements(app_config=APP_CONFIG)
    )
    pending = [line for group in statements for line in group.statements]
    assert pending == [], "run: piccolo migrations new portal --auto\n" + "\n".join(pending)
