from __future__ import annotations

import json

import pytest

from portal.catalogue.fields import FormField
from portal.kernel import sealing
from portal.keyring import KeyRing
from portal.privacy.citizen_ids import (
    CitizenIdVault,
    SealedIdsUnreadable,
    VaultNotConfigured,
    mask,
    protect_answers,
)
from tests.conftest import make_settings
from tests.privacy.helpers import CITIZEN_ID, MASKED_ID

FIELDS = [
    FormField(name="first_name", label="ชื่อ"),
    FormField(name="citizen_id", label="เลขประจำตัวประชาชน", kind="citizen_id"),
    FormField(name="spouse_id", label="เลขประจำตัวประชาชนคู่สมรส", kind="citizen_id"),
]
SPOUSE_ID = "3100600000013"


def vault(secret: str = "a" * 40) -> CitizenIdVault:
    return CitizenIdVault(
        encryption_key=crypto_key(secret, "enc"), hash_key=crypto_key(secret, "hash")
    )


def crypto_key(secret: str, purpose: str) -> bytes:
    import hashlib
    import hmac

    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def test_mask_keeps_the_last_three_digits_in_the_id_card_layout() -> None:
    assert mask(CITIZEN_ID) == MASKED_ID
    assert mask("1-2345-67890-12-1") == MASKED_ID
    assert mask("12345") == "x-xxxx-xxxxx-xx-x"


def test_split_takes_every_citizen_id_out_of_the_answers() -> None:
    answers = {"first_name": "สมศรี", "citizen_id": CITIZEN_ID, "spouse_id": "3100100000006"}
    split = vault().split(FIELDS, answers)
    assert split.answers == {
        "first_name": "สมศรี",
        "citizen_id": MASKED_ID,
        "spouse_id": "x-xxxx-xxxxx-00-6",
    }
    assert CITIZEN_ID not in split.citizen_id_encrypted
    assert vault().open(split.citizen_id_encrypted) == {
        "citizen_id": CITIZEN_ID,
        "spouse_id": "3100100000006",
    }
    # The first ID in the form's order is the one staff search by.
    assert split.citizen_id_hash == vault().digest(CITIZEN_ID)


def test_answers_without_an_id_store_nothing_sealed() -> None:
    split = vault().split(FIELDS, {"first_name": "สมศรี", "citizen_id": ""})
    assert split.answers == {"first_name": "สมศรี", "citizen_id": ""}
    assert split.citizen_id_encrypted == ""
    assert split.citizen_id_hash == ""
    assert vault().open("") == {}


def test_sealing_is_randomised_and_needs_the_same_secret() -> None:
    first = vault().seal({"citizen_id": CITIZEN_ID})
    assert first != vault().seal({"citizen_id": CITIZEN_ID})
    # Named, so the pages can say "the key changed" instead of answering 500.
    with pytest.raises(SealedIdsUnreadable):
        vault("b" * 40).open(first)


def test_an_old_secret_still_opens_and_finds_ids_and_reseal_moves_them() -> None:
    """After PORTAL_SECRET_KEY changes, with the old secret in PORTAL_OLD_SECRET_KEYS."""
    before = vault("a" * 40).split(FIELDS, {"citizen_id": CITIZEN_ID, "spouse_id": SPOUSE_ID})
    both = CitizenIdVault(
        encryption_key=KeyRing(crypto_key("b" * 40, "enc"), (crypto_key("a" * 40, "enc"),)),
        hash_key=KeyRing(crypto_key("b" * 40, "hash"), (crypto_key("a" * 40, "hash"),)),
    )
    assert both.open(before.citizen_id_encrypted) == {
        "citizen_id": CITIZEN_ID,
        "spouse_id": SPOUSE_ID,
    }
    assert before.citizen_id_hash in both.search_digests(CITIZEN_ID)
    assert both.search_digests("12345") == []
    assert not both.is_current(before.citizen_id_encrypted)
    sealed, digest = both.reseal(before.citizen_id_encrypted)
    assert both.is_current(sealed) and digest == vault("b" * 40).digest(CITIZEN_ID)
    assert vault("b" * 40).open(sealed)["spouse_id"] == SPOUSE_ID


def test_a_sealed_id_never_opens_as_a_staff_secret_and_back() -> None:
    """Same cipher, different associated data: the two uses cannot be swapped."""
    key = crypto_key("a" * 40, "enc")
    sealed_id = vault().seal({"citizen_id": CITIZEN_ID})
    assert sealing.decrypt(key, sealed_id) is None
    sealed_totp = sealing.encrypt(key, json.dumps({"citizen_id": CITIZEN_ID}))
    with pytest.raises(SealedIdsUnreadable):
        vault().open(sealed_totp)


def test_the_hash_is_keyed_and_ignores_dashes_and_spaces() -> None:
    assert vault().digest(CITIZEN_ID) == vault().digest("1-2345-67890-12-1")
    assert vault().digest(CITIZEN_ID) == vault().digest("1 2345 67890 12 1")
    assert vault().digest(CITIZEN_ID) != vault("b" * 40).digest(CITIZEN_ID)
    assert len(vault().digest(CITIZEN_ID)) == 64


@pytest.mark.parametrize("text", ["1234567890122", "123456789012", "69-123456", "สมศรี", ""])
def test_only_a_whole_valid_id_is_searched_by_hash(text: str) -> None:
    assert vault().search_digest(text) is None


def test_a_valid_id_is_searched_by_hash() -> None:
    assert vault().search_digest("1-2345-67890-12-1") == vault().digest(CITIZEN_ID)


def test_an_id_typed_with_thai_digits_is_the_same_id() -> None:
    assert vault().search_digest("๑-๒๓๔๕-๖๗๘๙๐-๑๒-๑") == vault().digest(CITIZEN_ID)
    assert mask("๑๒๓๔๕๖๗๘๙๐๑๒๑") == mask(CITIZEN_ID)


def test_keys_come_from_the_portal_secret_for_this_purpose_alone(tmp_path: object) -> None:
    settings = make_settings(tmp_path, "sqlite:///unused.sqlite3")  # type: ignore[arg-type]
    derived = CitizenIdVault.from_settings(settings)
    assert derived.encryption_key != derived.hash_key
    assert derived.encryption_key != settings.derive_key("staff-totp")


def test_filing_a_citizen_id_without_a_vault_is_refused() -> None:
    with pytest.raises(VaultNotConfigured):
        protect_answers(None, FIELDS, {"citizen_id": CITIZEN_ID})
    # Answers without an ID need no key.
    assert protect_answers(None, FIELDS, {"first_name": "สมศรี"}).answers == {"first_name": "สมศรี"}


def test_filing_seals_with_the_vault_it_is_given() -> None:
    split = protect_answers(vault(), FIELDS, {"citizen_id": CITIZEN_ID})
    assert split.answers["citizen_id"] != CITIZEN_ID
    assert vault().open(split.citizen_id_encrypted) == {"citizen_id": CITIZEN_ID}


def test_an_already_masked_value_is_not_sealed_again() -> None:
    split = vault().split(FIELDS, {"citizen_id": MASKED_ID})
    assert split.answers == {"citizen_id": MASKED_ID}
    assert split.citizen_id_encrypted == ""
