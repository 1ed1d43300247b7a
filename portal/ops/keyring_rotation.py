"""``portal keys rotate``: re-seal what the old secrets sealed under the current one.

After ``PORTAL_SECRET_KEY`` changes (the old secret kept in ``PORTAL_OLD_SECRET_KEYS``), the
portal already reads everything; this moves the stored values to the current key so that the
old secret can be dropped from the configuration:

- citizen IDs sealed in requests (and their search hash, re-made under the current key);
- staff authenticator secrets.

Both go through one loop (``_reseal_column``); what differs is how one value is re-sealed.

Values already under the current key are skipped (the key id says so without opening them),
so running it twice does nothing the second time, and a run cut short is simply run again.
Rows are read in batches by id; each is updated only if it still holds the value read, so a
request or an enrolment changed meanwhile is left to the next run rather than overwritten.
A value no configured key opens is counted, logged without its content and left as it is:
staff see that request's ID as unavailable, and that colleague needs a reset link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.table import Table

from portal.db import write_transaction
from portal.kernel import audit, sealing
from portal.keyring import KeyRing, as_ring
from portal.privacy.citizen_ids import CitizenIdVault, SealedIdsUnreadable
from portal.tables.citizen_request import CitizenRequest
from portal.tables.office import DEFAULT_OFFICE_ID
from portal.tables.staff_user import StaffUser

ACTOR = "system/cli"
BATCH = 200
logger = logging.getLogger("portal.keys")


@dataclass(frozen=True)
class RotationReport:
    citizen_ids: int
    totp_secrets: int
    unreadable_citizen_ids: int
    unreadable_totp_secrets: int

    @property
    def unreadable(self) -> int:
        return self.unreadable_citizen_ids + self.unreadable_totp_secrets


Reseal = Callable[[str], dict[Column | str, Any] | None]
"""The new column values for one stored value (None: no configured key opens it)."""


async def _reseal_column(
    table: type[Table], column: Column, current_id: str, reseal: Reseal, *, owner: str, what: str
) -> tuple[int, int]:
    """Re-seal every value of ``column`` not under the key ``current_id`` (the key id in the
    value's prefix says so without opening it): (how many re-sealed, how many no key opens).

    Batches by id; a row is updated only if it still holds the value read."""
    current = f"{sealing.ID_PREFIX}{current_id}{sealing.ID_SEPARATOR}%"
    name, pk = column._meta.name, table._meta.primary_key
    resealed = unreadable = last_id = 0
    while True:
        rows = (
            await table.select(pk.as_alias("id"), column)
            .where(pk > last_id, column != "", column.not_like(current))
            .order_by(pk)
            .limit(BATCH)
        )
        if not rows:
            return resealed, unreadable
        last_id = int(rows[-1]["id"])
        async with write_transaction():
            for row in rows:
                values = reseal(row[name])
                if values is None:
                    logger.warning("%s id %s: %s no key opens, left", owner, row["id"], what)
                    unreadable += 1
                    continue
                updated = (
                    await table.update(values)
                    .where(pk == row["id"], column == row[name])
                    .returning(pk)
                )
                resealed += len(updated)


def _citizen_ids(vault: CitizenIdVault) -> Reseal:
    def reseal(stored: str) -> dict[Column | str, Any] | None:
        try:
            sealed, digest = vault.reseal(stored)
        except SealedIdsUnreadable:
            return None
        return {CitizenRequest.citizen_id_encrypted: sealed, CitizenRequest.citizen_id_hash: digest}

    return reseal


def _totp_secrets(ring: KeyRing) -> Reseal:
    def reseal(stored: str) -> dict[Column | str, Any] | None:
        secret = sealing.decrypt(ring, stored)
        if secret is None:
            return None
        return {StaffUser.totp_secret_encrypted: sealing.encrypt(ring, secret)}

    return reseal


async def rotate(*, vault: CitizenIdVault, totp_key: bytes) -> RotationReport:
    """Re-seal every citizen ID and authenticator secret not under the current key; audited."""
    ids_key_id = as_ring(vault.encryption_key).current_id
    citizen_ids, unreadable_ids = await _reseal_column(
        CitizenRequest,
        CitizenRequest.citizen_id_encrypted,
        ids_key_id,
        _citizen_ids(vault),
        owner="request",
        what="citizen IDs",
    )
    ring = as_ring(totp_key)
    totp_secrets, unreadable_totp = await _reseal_column(
        StaffUser,
        StaffUser.totp_secret_encrypted,
        ring.current_id,
        _totp_secrets(ring),
        owner="staff",
        what="TOTP secret",
    )
    report = RotationReport(citizen_ids, totp_secrets, unreadable_ids, unreadable_totp)
    # A platform-wide change: recorded in the default office's log (the platform's own).
    await audit.record(
        office_id=DEFAULT_OFFICE_ID,
        actor=ACTOR,
        action="keys_rotated",
        details={
            "citizen_ids": citizen_ids,
            "totp_secrets": totp_secrets,
            "unreadable_citizen_ids": unreadable_ids,
            "unreadable_totp_secrets": unreadable_totp,
        },
    )
    return report
