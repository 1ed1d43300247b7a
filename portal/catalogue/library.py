"""The shared library of standard service forms, which every office adopts as its own.

Thai local governments offer much the same services (a general request, a complaint, a broken
street light, the elderly allowance, a building permit...), and most have nobody to write a
form definition. The platform keeps one library of them as data:

- ``default_services.json``: the standard set, adopted by every new office at creation so it
  can take requests at once (and seeded into the default office at first start);
- ``library_services.json``: more standard forms an office may adopt later.

Adopting *copies* a form into the office's own ``service`` rows: from then on the office edits
it as its own (``portal.catalogue.admin``), and a later change to the library never changes a
form under an office's feet. An office that already has a service with the same slug keeps
its own (adopting is idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from piccolo.query.functions.aggregate import Max

from portal.catalogue.service import DEFAULT_SERVICES, load_fields, service_from_definition
from portal.db import write_transaction
from portal.tables.service import Service

LIBRARY_FILES = (DEFAULT_SERVICES, Path(__file__).resolve().parent / "library_services.json")
"""The standard set first (what ``STANDARD_SET`` names), then the optional forms."""


@dataclass(frozen=True)
class LibraryForm:
    slug: str
    name: str
    name_en: str
    summary: str
    standard: bool
    """In the set every new office adopts at creation."""
    data: dict[str, Any]
    """The definition as in the JSON file (``form_fields`` and the rest)."""


def _read(path: Path, standard: bool) -> list[LibraryForm]:
    forms = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        # A broken definition is refused here, before any office could adopt it.
        load_fields(item["form_fields"])
        forms.append(
            LibraryForm(
                slug=item["slug"],
                name=item["name"],
                name_en=item.get("name_en", ""),
                summary=item.get("summary", ""),
                standard=standard,
                data=item,
            )
        )
    return forms


@cache
def library() -> tuple[LibraryForm, ...]:
    """Every form in the library (read once per process; the files ship with the code)."""
    standard, *more = LIBRARY_FILES
    forms = _read(standard, True)
    for path in more:
        forms += _read(path, False)
    slugs = [form.slug for form in forms]
    if len(slugs) != len(set(slugs)):
        raise ValueError("two library forms share a slug")
    return tuple(forms)


def standard_slugs() -> list[str]:
    return [form.slug for form in library() if form.standard]


class UnknownForm(LookupError):
    """A slug the library does not have."""


async def adopt(office_id: int, slugs: list[str] | None = None) -> list[str]:
    """Copy library forms into ``office_id``'s catalogue; ``slugs`` None: the standard set.
    Returns the slugs added (those the office already had are left as the office made them).
    All or nothing, in one transaction."""
    wanted = standard_slugs() if slugs is None else list(dict.fromkeys(slugs))
    by_slug = {form.slug: form for form in library()}
    unknown = [slug for slug in wanted if slug not in by_slug]
    if unknown:
        raise UnknownForm(", ".join(unknown))
    added: list[str] = []
    async with write_transaction(serialize=f"catalogue:{office_id}"):
        rows = await Service.select(Service.slug).where(Service.office == office_id)
        have = {row["slug"] for row in rows}
        top = await Service.select(Max(Service.sort_order)).where(Service.office == office_id)
        order = int((top[0]["max"] if top else None) or -1) + 1 if have else 0
        for slug in wanted:
            if slug in have:
                continue
            await service_from_definition(office_id, by_slug[slug].data, order).save()
            order += 1
            added.append(slug)
    return added
