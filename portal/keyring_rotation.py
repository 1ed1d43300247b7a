"""``portal keys rotate``: re-seal what the old secrets sealed under the current one.

After ``PORTAL_SECRET_KEY`` changes (the old secret kept in ``PORTAL_OLD_SECRET_KEYS``), the
portal already reads everything; this moves the stored values to the current key so that the
old secret can be dropped from the configuration:

- citizen IDs sealed in requests (and their search hash, re-made under the current key);
- staff authenticator secrets.

Values already under the current key are skipped (the key id says so without opening them),
so running it twice does nothing the second time, and a run cut short is simply run again.
Rows are read in batches by id; each is updated only if it still holds the value read, so a
request or an enrolment changed meanwhile is left to the next run rather than overwritten.
A value no configured key opens is counted, logged without its content and left as it is:
staff see that request's ID as unavailable, and that colleague needs a reset link.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from portal.db import write_transaction
from portal.kernel import audit, sealing
from portal.keyring import as_ring
from portal.privacy.citizen_ids import CitizenIdVault, SealedIdsUnreadable
from portal.tables.citizen_request import CitizenRequest
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


async def _reseal_citizen_ids(vault: CitizenIdVault) -> tuple[int, int]:
    current = (
        f"{sealing.ID_PREFIX}{as_ring(vault.encryption_key).current_id}{sealing.ID_SEPARATOR}%"
    )
    resealed = unreadable = 0
    last_id = 0
    while True:
        rows = (
            await CitizenRequest.select(CitizenRequest.id, CitizenRequest.citizen_id_encrypted)
            .where(
                CitizenRequest.id > last_id,
                CitizenRequest.citizen_id_encrypted != "",
                CitizenRequest.citizen_id_encrypted.not_like(current),
            )
            .order_by(CitizenRequest.id)
            .limit(BATCH)
        )
        if not rows:
            return resealed, unreadable
        last_id = int(rows[-1]["id"])
        async with write_transaction():
            for row in rows:
                try:
                    sealed, digest = vault.reseal(row["citizen_id_encrypted"])
                except SealedIdsUnreadable:
                    logger.warning("request id %s: citizen IDs no key opens, left", row["id"])
                    unreadable += 1
                    continue
                updated = (
                    await CitizenRequest.update(
                        {
                            CitizenRequest.citizen_id_encrypted: sealed,
                            CitizenRequest.citizen_id_hash: digest,
                        }
                    )
                    .where(
                        CitizenRequest.id == row["id"],
                        CitizenRequest.citizen_id_encrypted == row["citizen_id_encrypted"],
                    )
                    .returning(CitizenRequest.id)
                )
                resealed += len(updated)


async def _reseal_totp_secrets(totp_key: bytes) -> tuple[int, int]:
    ring = as_ring(totp_key)
    current = f"{sealing.ID_PREFIX}{ring.current_id}{sealing.ID_SEPARATOR}%"
    resealed = unreadable = 0
    last_id = 0
    while True:
        rows = (
            await StaffUser.select(StaffUser.id, StaffUser.totp_secret_encrypted)
            .where(
                StaffUser.id > last_id,
                StaffUser.totp_secret_encrypted != "",
                StaffUser.totp_secret_encrypted.not_like(current),
            )
            .order_by(StaffUser.id)
            .limit(BATCH)
        )
        if not rows:
            return resealed, unreadable
        last_id = int(rows[-1]["id"])
        async with write_transaction():
            for row in rows:
                secret = sealing.decrypt(ring, row["totp_secret_encrypted"])
                if secret is None:
                    logger.warning("staff id %s: TOTP secret no key opens, left", row["id"])
                    unreadable += 1
                    continue
                updated = (
                    await StaffUser.update(
                        {StaffUser.totp_secret_encrypted: sealing.encrypt(ring, secret)}
                    )
                    .where(
                        StaffUser.id == row["id"],
                        StaffUser.totp_secret_encrypted == row["totp_secret_encrypted"],
                    )
                    .returning(StaffUser.id)
                )
                resealed += len(updated)


async def rotate(*, vault: CitizenIdVault, totp_key: bytes) -> RotationReport:
    """Re-seal every citizen ID and authenticator secret not under the current key; audited."""
    citizen_ids, unreadable_ids = await _reseal_citizen_ids(vault)
    totp_secrets, unreadable_totp = await _reseal_totp_secrets(totp_key)
    report = RotationReport(citizen_ids, totp_secrets, unreadable_ids, unreadable_totp)
    await audit.record(
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
