"""Internal notes: for the office only. Written and read here; the citizen's reads never see
them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.casework.notes import MAX_NOTE_LENGTH, NoteError, add_note, notes_for
from portal.kernel.clock import utcnow
from portal.settings import Settings
from portal.tables.staff_note import StaffNote
from portal.tracking.service import find_by_token, request_for_phone
from tests.conftest import fresh
from tests.staff.helpers import Staff, default_office, file_direct, make_staff

PHONE = "+66800000392"
NOTE = "ผู้ร้องเคยร้องเรียนเรื่องเดียวกัน ห้ามแจ้งประชาชน"


@pytest.fixture
def author(settings: Settings) -> Staff:
    return make_staff(fresh, settings, "somchai", display_name="สมชาย ใจดี")


def test_a_note_is_saved_trimmed_with_its_author_and_time(author: Staff) -> None:
    filed = file_direct(None, PHONE)
    before = utcnow()
    fresh(
        lambda: add_note(
            office=default_office(), request_id=filed.id, author_id=author.id, text=f"  {NOTE}\n"
        )
    )
    (note,) = fresh(lambda: notes_for(filed.id, office=default_office()))
    assert note.text == NOTE
    assert note.author == "สมชาย ใจดี"
    assert before - timedelta(seconds=1) <= note.created_at <= utcnow() + timedelta(seconds=1)


def test_notes_read_newest_first_and_only_for_their_request(
    author: Staff, settings: Settings
) -> None:
    filed = file_direct(None, PHONE)
    other = file_direct(None, "+66800000393")
    nameless = make_staff(fresh, settings, "malee")
    for author_id, text in ((author.id, "first"), (nameless.id, "second")):
        fresh(
            lambda a=author_id, t=text: add_note(
                office=default_office(), request_id=filed.id, author_id=a, text=t
            )
        )
    fresh(
        lambda: add_note(
            office=default_office(), request_id=other.id, author_id=author.id, text="elsewhere"
        )
    )
    notes = fresh(lambda: notes_for(filed.id, office=default_office()))
    assert [(n.text, n.author) for n in notes] == [("second", "Malee"), ("first", "สมชาย ใจดี")]
    assert [n.text for n in fresh(lambda: notes_for(other.id, office=default_office()))] == [
        "elsewhere"
    ]


def test_an_author_without_a_display_name_is_shown_by_username(
    author: Staff, settings: Settings
) -> None:
    from portal.tables.staff_user import StaffUser

    filed = file_direct(None, PHONE)
    fresh(lambda: StaffUser.update({StaffUser.display_name: ""}).where(StaffUser.id == author.id))
    fresh(
        lambda: add_note(
            office=default_office(), request_id=filed.id, author_id=author.id, text="x"
        )
    )
    assert [n.author for n in fresh(lambda: notes_for(filed.id, office=default_office()))] == [
        "somchai"
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_note_is_refused(author: Staff, text: str) -> None:
    filed = file_direct(None, PHONE)
    with pytest.raises(NoteError) as refused:
        fresh(
            lambda: add_note(
                office=default_office(), request_id=filed.id, author_id=author.id, text=text
            )
        )
    assert refused.value.code == "note_required"
    assert fresh(lambda: StaffNote.count()) == 0


def test_a_note_may_be_as_long_as_the_limit_but_not_longer(author: Staff) -> None:
    filed = file_direct(None, PHONE)
    fresh(
        lambda: add_note(
            office=default_office(),
            request_id=filed.id,
            author_id=author.id,
            text="ก" * MAX_NOTE_LENGTH,
        )
    )
    with pytest.raises(NoteError) as refused:
        fresh(
            lambda: add_note(
                office=default_office(),
                request_id=filed.id,
                author_id=author.id,
                text="ก" * (MAX_NOTE_LENGTH + 1),
            )
        )
    assert refused.value.code == "note_too_long"
    assert fresh(lambda: StaffNote.count()) == 1


def test_the_citizens_reads_carry_no_internal_note(author: Staff) -> None:
    from portal.tables.citizen_request import CitizenRequest

    filed = file_direct(None, PHONE)
    fresh(
        lambda: add_note(
            office=default_office(), request_id=filed.id, author_id=author.id, text=NOTE
        )
    )
    token = fresh(
        lambda: (
            CitizenRequest.select(CitizenRequest.tracking_token)
            .where(CitizenRequest.id == filed.id)
            .first()
        )
    )["tracking_token"]
    by_link = fresh(lambda: find_by_token(token, office=default_office()))
    by_phone = fresh(lambda: request_for_phone(filed.number, PHONE, office=default_office()))
    for tracked in (by_link, by_phone):
        assert tracked is not None
        assert NOTE not in repr(tracked)
        assert [entry.public_note for entry in tracked.timeline] == [""]
