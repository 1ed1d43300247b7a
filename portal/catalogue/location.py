"""A place on a form: a point from the phone's location, a typed place, or both.

The point comes from the browser (``navigator.geolocation``) into two hidden inputs; the
typed place is village/หมู่, sub-district, district and province. Both are checked here the way
every other answer is: a clear code when something is wrong, never a guess. Staff get links
that open the point in whatever map application they have; the portal draws no map.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

PARTS = ("village", "subdistrict", "district", "province")
PART_MAX = 100
COORDINATE = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,12})?")
THAILAND_LAT = (5.0, 21.0)
THAILAND_LNG = (97.0, 106.0)
"""A generous box around Thailand: a point outside it is a wrong fix (a VPN, a desktop's
guess), not a place the office serves."""
DECIMALS = 6
"""About 11 cm: more than a phone's fix is worth, less than a float's noise."""


@dataclass(frozen=True)
class Place:
    lat: float | None
    lng: float | None
    text: str

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None

    @property
    def coordinates(self) -> str:
        return f"{self.lat:.{DECIMALS}f},{self.lng:.{DECIMALS}f}" if self.has_point else ""

    @property
    def map_url(self) -> str:
        """Opens Google Maps (app or web) at the point; any browser can follow it."""
        if not self.has_point:
            return ""
        return f"https://www.google.com/maps/search/?api=1&query={self.coordinates}"

    @property
    def geo_url(self) -> str:
        """RFC 5870: phones offer their own map applications for it."""
        return f"geo:{self.coordinates}?q={self.coordinates}" if self.has_point else ""


def input_name(field_name: str, part: str) -> str:
    return f"{field_name}_{part}"


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))
    return " ".join(text.split())


def _coordinate(raw: str, low: float, high: float) -> float | None:
    if not COORDINATE.fullmatch(raw):
        return None
    value = float(raw)
    return round(value, DECIMALS) if low <= value <= high else None


def parse_place(
    field_name: str, raw: Mapping[str, str], *, required: bool
) -> tuple[dict[str, str], Place | None, str | None]:
    """(the inputs as cleaned, to show again; the place or None; an error code or None)."""
    values = {
        input_name(field_name, part): _clean(raw.get(input_name(field_name, part), ""))
        for part in (*PARTS, "lat", "lng")
    }
    lat_raw = values[input_name(field_name, "lat")]
    lng_raw = values[input_name(field_name, "lng")]
    texts = [values[input_name(field_name, part)] for part in PARTS]
    if any(len(text) > PART_MAX for text in texts):
        return values, None, "location_too_long"
    lat = lng = None
    if lat_raw or lng_raw:
        if not COORDINATE.fullmatch(lat_raw) or not COORDINATE.fullmatch(lng_raw):
            return values, None, "location_point"
        lat = _coordinate(lat_raw, *THAILAND_LAT)
        lng = _coordinate(lng_raw, *THAILAND_LNG)
        if lat is None or lng is None:
            return values, None, "location_outside"
    text = ", ".join(text for text in texts if text)
    if lat is None and not text:
        return values, None, "required" if required else None
    return values, Place(lat, lng, text), None
