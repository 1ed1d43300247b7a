"""Citizen IDs at rest: sealed (AES-GCM) for the few who must read them, a keyed hash to find
a request by one, and a masked form everywhere else.

A 13-digit citizen ID is the key to a Thai person's records elsewhere, so a copy of the
database (a backup, a laptop) must not hand them out: ``answers`` keeps only the masked form
(``x-xxxx-xxxxx-12-1``, which every page can show as it is), the full values go sealed into
``citizen_id_encrypted``, and ``citizen_id_hash`` is an HMAC that finds a request by a full ID
without decrypting anything. Both keys are derived from ``PORTAL_SECRET_KEY`` for this purpose
alone.

After ``PORTAL_SECRET_KEY`` changes, the keys from ``PORTAL_OLD_SECRET_KEYS`` still open the
sealed IDs and still find a request by its hash (a search asks for the hash under every key);
``portal keys rotate`` re-seals and re-hashes them under the current key (``reseal``). IDs no
configured key opens are shown to staff as unavailable, never as an error.

Every user of a vault builds it from the typed settings it receives
(``CitizenIdVault.from_settings``): filing gets it in ``CitizenConfig``, the staff's search,
reveal and export, retention and key rotation from their own settings. There is no
process-wide vault. Filing without one (``protect_answers(None, ...)``) passes ID-free answers
and refuses a citizen ID (``VaultNotConfigured``) rather than store it unprotected, so a caller
that forgets the vault cannot store an ID in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from portal.catalogue.citizen_id import is_valid_citizen_id, normalise_citizen_id
from portal.catalogue.fields import FormField
from portal.kernel import sealing
from portal.keyring import as_ring
from portal.settings import Settings

KIND = "citizen_id"
CONTEXT = b"citizen-id"
MASK_PREFIX = "x-xxxx-xxxxx-"


class VaultNotConfigured(RuntimeError):
    """Filing a citizen ID with no key to seal it: refuse rather than store it in the clear."""


class SealedIdsUnreadable(ValueError):
    """The sealed IDs open with no configured key: ``PORTAL_SECRET_KEY`` changed since filing
    and the old secret is not in ``PORTAL_OLD_SECRET_KEYS`` (or the value was damaged).
    Nothing can recover them without the old secret."""


def normalise(raw: str) -> str:
    """One form for hashing and masking; see ``normalise_citizen_id`` (Thai digits too)."""
    return normalise_citizen_id(raw)


def mask(value: str) -> str:
    """x-xxxx-xxxxx-12-1: the last three digits, enough for its owner to recognise it."""
    digits = normalise(value)
    if len(digits) != 13:
        return "x-xxxx-xxxxx-xx-x"
    return f"{MASK_PREFIX}{digits[10:12]}-{digits[12]}"


def is_masked(value: str) -> bool:
    return value.startswith(MASK_PREFIX)


@dataclass(frozen=True)
class SplitAnswers:
    """What filing stores: answers safe to show, and the sealed IDs with their search hash."""

    answers: dict[str, str]
    citizen_id_encrypted: str
    citizen_id_hash: str


@dataclass(frozen=True)
class CitizenIdVault:
    encryption_key: bytes
    hash_key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> CitizenIdVault:
        return cls(
            encryption_key=settings.derive_key("citizen-id-encryption"),
            hash_key=settings.derive_key("citizen-id-search"),
        )

    def digest(self, citizen_id: str, key: bytes | None = None) -> str:
        """The search hash under the current key (or ``key``)."""
        used = bytes(self.hash_key if key is None else key)
        return hmac.new(used, normalise(citizen_id).encode(), hashlib.sha256).hexdigest()

    def search_digest(self, text: str) -> str | None:
        """The hash to search by, when ``text`` is a whole, valid citizen ID; else None."""
        digits = normalise(text)
        return self.digest(digits) if is_valid_citizen_id(digits) else None

    def search_digests(self, text: str) -> list[str]:
        """The hashes under every configured key: requests filed before a key change are
        found before ``portal keys rotate`` re-hashes them. [] when ``text`` is no ID."""
        digits = normalise(text)
        if not is_valid_citizen_id(digits):
            return []
        return [self.digest(digits, key) for key in as_ring(self.hash_key).keys]

    def seal(self, values: Mapping[str, str]) -> str:
        if not values:
            return ""
        return sealing.encrypt(
            self.encryption_key, json.dumps(dict(values), ensure_ascii=False), context=CONTEXT
        )

    def open(self, sealed: str) -> dict[str, str]:
        """The {field name: ID} sealed at filing; {} for a request with none (or anonymised)."""
        if not sealed:
            return {}
        opened = sealing.decrypt(self.encryption_key, sealed, context=CONTEXT)
        try:
            if opened is None:
                raise ValueError("no configured key opens it")  # logged by sealing.decrypt
            data = json.loads(opened)
            return {str(name): str(value) for name, value in data.items()}
        except (ValueError, AttributeError) as error:
            raise SealedIdsUnreadable("citizen IDs sealed with another key") from error

    def is_current(self, sealed: str) -> bool:
        """Sealed with the current key: nothing for ``portal keys rotate`` to do."""
        return not sealed or sealing.is_current(self.encryption_key, sealed)

    def reseal(self, sealed: str) -> tuple[str, str]:
        """The same IDs sealed and hashed under the current key: (sealed, search hash).

        The search hash is the first ID's, as ``split`` made it (the sealed JSON keeps the
        form's order). Raises ``SealedIdsUnreadable`` when no configured key opens them."""
        values = self.open(sealed)
        first = next(iter(values.values()), "")
        return self.seal(values), self.digest(first) if first else ""

    def split(self, fields: Iterable[FormField], answers: Mapping[str, str]) -> SplitAnswers:
        """Take the citizen-ID answers out of ``answers``; the first one is the search key."""
        kept = dict(answers)
        secret: dict[str, str] = {}
        for form_field in fields:
            value = kept.get(form_field.name, "")
            if form_field.kind == KIND and value and not is_masked(value):
                secret[form_field.name] = normalise(value)
                kept[form_field.name] = mask(value)
        first = next(iter(secret.values()), "")
        return SplitAnswers(
            answers=kept,
            citizen_id_encrypted=self.seal(secret),
            citizen_id_hash=self.digest(first) if first else "",
        )


def protect_answers(
    vault: CitizenIdVault | None, fields: Iterable[FormField], answers: Mapping[str, str]
) -> SplitAnswers:
    """For filing: split with the filing's vault; without one, only ID-free answers pass."""
    fields = list(fields)
    has_id = any(f.kind == KIND and answers.get(f.name) for f in fields)
    if vault is None:
        if has_id:
            raise VaultNotConfigured("no key to seal a citizen ID with")
        return SplitAnswers(dict(answers), "", "")
    return vault.split(fields, answers)
