from piccolo.columns import JSON, Boolean, Integer, Serial, Text, Varchar
from piccolo.table import Table


class Service(Table):
    """One card on the e-Service menu, with its form definition kept as data.

    ``form_fields`` is a JSON list of field definitions (name, label, kind, required, help,
    max_length, options), so an office adds or changes a service without a code change.
    """

    id = Serial(primary_key=True)
    slug = Varchar(length=64, unique=True)
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
