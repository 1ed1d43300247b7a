"""Offices: each local government the deployment serves, and the host names it answers on."""

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

DEFAULT_OFFICE_ID = 1
"""The office the first migration creates and ``PORTAL_OFFICE_*`` describe: every row that
existed before offices did belongs to it, and a deployment with one office is just this one."""


class Office(Table):
    """One local government (เทศบาล, อบต.): its name, how citizens reach it, its SMS and its
    retention. Everything citizens and staff touch carries an ``office`` column pointing here."""

    id = Serial(primary_key=True)
    slug = Varchar(length=32, unique=True)
    """Short lower-case name: the development path prefix ``/o/<slug>/`` and the CLI's handle."""
    name = Varchar(length=200, default="")
    name_en = Varchar(length=200, default="")
    active = Boolean(default=True)
    """A disabled office answers 404 on every page, like an unknown host."""
    env_managed = Boolean(default=False)
    """Written from ``PORTAL_OFFICE_*`` at every start (the default office of a one-office
    deployment); the platform page edits the others."""
    base_url = Varchar(length=200, default="")
    """Where citizens reach it (``https://eservice.nongbua.go.th``); empty: the platform's."""
    sms_link_base_url = Varchar(length=200, default="")
    """A short host for links in SMS; empty: ``base_url``."""
    sms_sender = Varchar(length=11, default="OSS-LOCAL")
    sms_daily_budget = Integer(default=0)
    """SMS this office may hand to the gateway per 24 hours; 0: the platform's limit."""
    retention_days = Integer(default=0)
    """Days a closed request keeps its personal data; 0: the platform's setting."""
    phone = Varchar(length=32, default="")
    line_url = Varchar(length=200, default="")
    email = Varchar(length=200, default="")
    address = Text(default="")
    map_url = Varchar(length=300, default="")
    hours = Varchar(length=200, default="")
    privacy_contact_phone = Varchar(length=32, default="")
    privacy_contact_email = Varchar(length=200, default="")
    emblem_key = Varchar(length=200, default="")
    """The emblem image in the attachment store; empty: none shown."""
    updated_at = Timestamptz()


class OfficeHost(Table):
    """A host name an office answers on; each host belongs to exactly one office."""

    id = Serial(primary_key=True)
    host = Varchar(length=253, unique=True)
    office = ForeignKey(references=Office, index=True, on_delete=OnDelete.cascade)
