from enum import StrEnum

from piccolo.columns import (
    JSON,
    DoublePrecision,
    ForeignKey,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from portal.tables.office import Office
from portal.tables.service import Service
from portal.tables.staff_user import StaffUser


class RequestStatus(StrEnum):
    """The lifecycle in DESIGN.md section 6; Thai labels live in the templates."""

    received = "received"
    in_progress = "in_progress"
    completed = "completed"
    rejected = "rejected"
    cancelled = "cancelled"


class CitizenRequest(Table):
    """A request a citizen filed. ``number`` is for people, ``tracking_token`` is the credential."""

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    number = Varchar(length=16)
    service = ForeignKey(references=Service, on_delete=OnDelete.restrict)
    phone = Varchar(length=16, index=True)
    answers = JSON(default="{}")
    status = Varchar(length=16, choices=RequestStatus, default=RequestStatus.received)
    tracking_token = Varchar(length=64)
    tracking_token_hash = Varchar(length=64, unique=True)
    submission_key = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    assigned_to = ForeignKey(
        references=StaffUser, null=True, default=None, on_delete=OnDelete.set_null
    )
    citizen_id_encrypted = Text(default="")
    """Answers of ``citizen_id`` fields, as encrypted JSON (PDPA): never in ``answers``."""
    citizen_id_hash = Varchar(length=64, default="", index=True)
    """Keyed hash of the citizen ID, so staff can search by it without decrypting rows."""
    location_lat = DoublePrecision(null=True, default=None)
    location_lng = DoublePrecision(null=True, default=None)
    location_text = Text(default="")
    """A typed place (village/หมู่, sub-district, district, province) or a note on the point."""
    anonymised_at = Timestamptz(null=True, default=None)
    """Set by ``portal purge`` when retention ended: personal data gone, numbers kept."""

    unique_office_number = Unique(["office", "number"])
    """Numbers are unique per office; the tracking token is unique everywhere."""
