from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from portal.tables.office import Office


class FormDraft(Table):
    """What a citizen has typed into a form not yet sent (issue 17: nothing typed is lost).

    One per verification (the code that passed, ``OtpChallenge`` id) and service, for the
    verified phone and the browser the form key was issued to (``browser_hash``: a digest of
    the session's browser id, never the id itself). Only typed answers, never citizen IDs
    (quick to type again, and not to be kept in the clear) and never files (pending uploads
    are kept per form key already). Deleted on filing and after 24 hours
    (``portal attachments clean``)."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    verification = Integer(index=True)
    service = Integer()
    phone = Varchar(length=20)
    browser_hash = Varchar(length=64)
    answers = Text(default="{}")
    updated_at = Timestamptz(index=True)
