"""SMS texts are Jinja templates under ``templates/sms/``, so translators find them beside the
pages. Plain text, no autoescaping: an SMS is not HTML."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,  # noqa: S701
        extensions=["jinja2.ext.i18n"],
    )
    # SMS go out in Thai (the shared status words are marked for the pages' translations).
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def render_sms(template_name: str, **context: Any) -> str:
    # Rooted at templates/ so an SMS can share macros (status labels) with the pages.
    text = _environment().get_template(f"sms/{template_name}").render(**context)
    return " ".join(text.split())


def ucs2_parts(text: str) -> int:
    """How many SMS parts a Thai (UCS-2) text takes: 70 in one part, 67 each when split."""
    length = len(text.encode("utf-16-le")) // 2
    return 1 if length <= 70 else -(-length // 67)
