from piccolo.columns import JSON, Boolean, ForeignKey, Integer, OnDelete, Serial, Text, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from portal.tables.office import Office


class Service(Table):
    """One card on the e-Service menu, with its form definition kept as data.

    ``form_fields`` is a JSON list of field definitions (name, label, kind, required, help,
    max_length, options), so an office adds or changes a service without a code change.
    """

    id = Serial(primary_key=True)
    office = ForeignKey(references=Office, null=False, on_delete=OnDelete.restrict)
    slug = Varchar(length=64)
    name = Varchar(length=200)
    summary = Text(default="")
    name_en = Varchar(length=200, default="")
    """English name for the English pages; empty means the Thai name is shown."""
    summary_en = Text(default="")
    icon = Varchar(length=32, default="document")
    target_days = Integer(default=15)
    sort_order = Integer(default=0)
    active = Boolean(default=True)
    form_fields = JSON(default="[]")

    unique_office_slug = Unique(["office", "slug"])
    """Each office has its own "general-request"."""
