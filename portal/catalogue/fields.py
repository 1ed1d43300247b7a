"""Form definitions stored as data, and the server-side validation of what a citizen typed.

Errors are codes (``required``, ``too_long``, ...); the Thai sentences live in
``templates/components/_messages.html`` so a translator finds them in one place.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.catalogue.citizen_id import is_valid_citizen_id, normalise_citizen_id
from portal.catalogue.location import Place, parse_place

KINDS = ("text", "textarea", "select", "citizen_id", "attachments", "location")
DEFAULT_MAX_LENGTH = {
    "text": 200,
    "textarea": 4000,
    "select": 200,
    "citizen_id": 17,
    "attachments": 200,
    "location": 400,
}
DEFAULT_MAX_FILES = 5
MAX_FILES_CEILING = 10
NOT_ANSWERS = ("attachments", "location")
"""Kinds whose answers live elsewhere: files in ``Attachment`` rows, the place in the
request's location columns."""


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"
    required: bool = False
    help: str = ""
    max_length: int = 0
    options: tuple[str, ...] = ()
    autocomplete: str = ""
    label_en: str = ""
    help_en: str = ""
    options_en: tuple[str, ...] = ()
    """English display text for ``options``, in the same order; the stored answer stays the
    Thai option, so staff read one language whatever the citizen chose."""
    max_files: int = 0
    """``attachments`` only: how many photos or PDFs (0: ``DEFAULT_MAX_FILES``)."""

    @property
    def file_limit(self) -> int:
        return self.max_files or DEFAULT_MAX_FILES

    @property
    def limit(self) -> int:
        return self.max_length or DEFAULT_MAX_LENGTH[self.kind]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> FormField:
        kind = str(data.get("kind", "text"))
        if kind not in KINDS:
            raise ValueError(f"unknown field kind {kind!r}")
        return cls(
            name=str(data["name"]),
            label=str(data["label"]),
            kind=kind,
            required=bool(data.get("required", False)),
            help=str(data.get("help", "")),
            max_length=int(data.get("max_length", 0)),
            options=tuple(str(option) for option in data.get("options", ())),
            autocomplete=str(data.get("autocomplete", "")),
            label_en=str(data.get("label_en", "")),
            help_en=str(data.get("help_en", "")),
            options_en=tuple(str(option) for option in data.get("options_en", ())),
            max_files=int(data.get("max_files", 0)),
        )


@dataclass(frozen=True)
class FieldError:
    field: FormField
    code: str


@dataclass
class FormResult:
    values: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    place: Place | None = None
    """The ``location`` field's answer, when the form has one and it was given."""

    @property
    def answers(self) -> dict[str, str]:
        """What goes into the request's ``answers``: the typed fields only."""
        return {name: value for name, value in self.values.items() if name in self.typed}

    typed: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_for(self, name: str) -> FieldError | None:
        return next((error for error in self.errors if error.field.name == name), None)


def _clean(raw: str) -> str:
    """NFC-normalise and drop control characters a paste can carry, keeping line breaks."""
    text = unicodedata.normalize("NFC", raw)
    kept = (ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf"))
    return "".join(kept).replace("\r", "").strip()


def validate(fields: list[FormField], raw: Mapping[str, str]) -> FormResult:
    result = FormResult(typed=frozenset(f.name for f in fields if f.kind not in NOT_ANSWERS))
    for form_field in fields:
        if form_field.kind == "attachments":
            continue  # checked against the uploads by portal/attachments/form_step.py
        if form_field.kind == "location":
            values, place, code = parse_place(form_field.name, raw, required=form_field.required)
            result.values.update(values)
            result.place = place
            if code:
                result.errors.append(FieldError(form_field, code))
            continue
        value = _clean(raw.get(form_field.name, ""))
        if form_field.kind != "textarea":
            value = " ".join(value.split())
        if form_field.kind == "citizen_id":
            value = normalise_citizen_id(value)
        result.values[form_field.name] = value
        code = _check(form_field, value)
        if code:
            result.errors.append(FieldError(form_field, code))
    return result


def _check(form_field: FormField, value: str) -> str | None:
    if not value:
        return "required" if form_field.required else None
    if len(value) > form_field.limit:
        return "too_long"
    if form_field.kind == "select" and value not in form_field.options:
        return "invalid_choice"
    if form_field.kind == "citizen_id":
        if len(value) != 13 or not value.isascii() or not value.isdigit():
            return "citizen_id_format"
        if not is_valid_citizen_id(value):
            return "citizen_id_checksum"
    return None
