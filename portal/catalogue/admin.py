"""Changing the catalogue: services, their form definitions, target days, and retiring them.

Form definitions stay data (a JSON list of fields), validated here exactly as the citizen form
will read them, so a mistake is refused on save instead of breaking a form in public.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from portal.catalogue.fields import MAX_FILES_CEILING, NOT_ANSWERS, FormField
from portal.catalogue.service import SLUG_PATTERN
from portal.db import is_unique_violation
from portal.kernel.offices import OfficeRef
from portal.tables.service import Service

ICONS = ("document", "megaphone", "lightbulb", "trash", "info", "people")
FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_FIELDS = 40


class CatalogueError(ValueError):
    """``code`` names the problem; ``field`` the form input it belongs to."""

    def __init__(self, code: str, field: str) -> None:
        super().__init__(code)
        self.code = code
        self.field = field


@dataclass(frozen=True)
class ServiceDraft:
    slug: str
    name: str
    summary: str
    icon: str
    target_days: str
    sort_order: str
    active: bool
    form_fields: str
    """The JSON text as the admin typed it."""
    name_en: str = ""
    summary_en: str = ""


@dataclass(frozen=True)
class ServiceRow:
    id: int
    slug: str
    name: str
    target_days: int
    active: bool
    field_count: int


def _parse_fields(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogueError("fields_not_json", "form_fields") from error
    if not isinstance(data, list) or not data or len(data) > MAX_FIELDS:
        raise CatalogueError("fields_not_list", "form_fields")
    names = set()
    kinds: set[str] = set()
    for item in data:
        if not isinstance(item, dict):
            raise CatalogueError("fields_not_list", "form_fields")
        try:
            form_field = FormField.from_data(item)
        except (KeyError, TypeError, ValueError) as error:
            raise CatalogueError("field_invalid", "form_fields") from error
        if not FIELD_NAME.fullmatch(form_field.name) or form_field.name in names:
            raise CatalogueError("field_name", "form_fields")
        if form_field.kind == "select" and not form_field.options:
            raise CatalogueError("field_options", "form_fields")
        if not 0 <= form_field.max_files <= MAX_FILES_CEILING:
            raise CatalogueError("field_max_files", "form_fields")
        if form_field.kind in NOT_ANSWERS:
            # One request has one set of files and one place.
            if form_field.kind in kinds:
                raise CatalogueError("field_kind_twice", "form_fields")
            kinds.add(form_field.kind)
        names.add(form_field.name)
    return data


def _whole(text: str, low: int, high: int, field: str) -> int:
    text = text.strip()
    # ASCII digits only: "²".isdigit() is true, but int("²") raises.
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise CatalogueError("number_range", field)
    return int(text)


def validate(draft: ServiceDraft) -> dict[Any, Any]:
    if not SLUG_PATTERN.fullmatch(draft.slug):
        raise CatalogueError("slug", "slug")
    if not draft.name.strip() or len(draft.name) > 200:
        raise CatalogueError("name", "name")
    if draft.icon not in ICONS:
        raise CatalogueError("icon", "icon")
    return {
        Service.slug: draft.slug,
        Service.name: draft.name.strip(),
        Service.summary: draft.summary.strip()[:1000],
        Service.name_en: draft.name_en.strip()[:200],
        Service.summary_en: draft.summary_en.strip()[:1000],
        Service.icon: draft.icon,
        Service.target_days: _whole(draft.target_days, 1, 365, "target_days"),
        Service.sort_order: _whole(draft.sort_order or "0", 0, 9999, "sort_order"),
        Service.active: draft.active,
        Service.form_fields: json.dumps(_parse_fields(draft.form_fields), ensure_ascii=False),
    }


class ServiceMissing(LookupError):
    """The service is not the office's (missing, or another office's: the same answer)."""


async def save_service(draft: ServiceDraft, existing_id: int | None, *, office: OfficeRef) -> int:
    """Create (``existing_id`` None) or update one of ``office``'s services; call inside a
    transaction. A slug is unique within the office only. Updating a service that is not the
    office's raises ``ServiceMissing`` and changes nothing."""
    values = validate(draft)
    try:
        if existing_id is None:
            service = Service(
                office=office.id,
                **{column._meta.name: value for column, value in values.items()},
            )
            await service.save()
            return int(service.id)
        changed = (
            await Service.update(values)
            .where(Service.id == existing_id, Service.office == office.id)
            .returning(Service.id)
        )
        if not changed:
            raise ServiceMissing(existing_id)
        return existing_id
    except Exception as error:
        if is_unique_violation(error):
            raise CatalogueError("slug_taken", "slug") from error
        raise


async def list_all_services(*, office: OfficeRef) -> list[ServiceRow]:
    """The office's catalogue as its back office lists it (retired services too)."""
    rows = (
        await Service.select()
        .where(Service.office == office.id)
        .order_by(Service.sort_order)
        .order_by(Service.id)
    )
    return [
        ServiceRow(
            id=int(row["id"]),
            slug=row["slug"],
            name=row["name"],
            target_days=int(row["target_days"]),
            active=bool(row["active"]),
            field_count=len(
                json.loads(row["form_fields"])
                if isinstance(row["form_fields"], str)
                else row["form_fields"] or []
            ),
        )
        for row in rows
    ]


async def draft_for(service_id: int, *, office: OfficeRef) -> ServiceDraft | None:
    """One of the office's services as its edit form shows it; None for another office's."""
    row = (
        await Service.select().where(Service.id == service_id, Service.office == office.id).first()
    )
    if row is None:
        return None
    fields = row["form_fields"]
    data = json.loads(fields) if isinstance(fields, str) else fields
    return ServiceDraft(
        slug=row["slug"],
        name=row["name"],
        summary=row["summary"],
        icon=row["icon"],
        target_days=str(row["target_days"]),
        sort_order=str(row["sort_order"]),
        active=bool(row["active"]),
        form_fields=json.dumps(data, ensure_ascii=False, indent=2),
        name_en=row.get("name_en") or "",
        summary_en=row.get("summary_en") or "",
    )
