"""Draw the portal's app icons (our own simple mark: a request form on the office green).

Run once after changing the design: `.venv/bin/python scripts/make_icons.py`. The PNGs are
committed because the manifest needs raster icons and a set-up should not need Pillow.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

GREEN = (11, 93, 59, 255)
WHITE = (255, 255, 255, 255)
LIGHT = (220, 239, 228, 255)
OUT = Path(__file__).resolve().parent.parent / "portal" / "static" / "icons"


def draw(size: int, *, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), GREEN if maskable else (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if not maskable:
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=GREEN)
    # Maskable icons keep their mark inside the central 80% safe zone.
    inset = size * (0.26 if maskable else 0.2)
    left, top, right, bottom = inset + size * 0.06, inset, size - inset - size * 0.06, size - inset
    fold = (right - left) * 0.3
    pen.polygon(
        [(left, top), (right - fold, top), (right, top + fold), (right, bottom), (left, bottom)],
        fill=WHITE,
    )
    pen.polygon([(right - fold, top), (right, top + fold), (right - fold, top + fold)], fill=LIGHT)
    line_left, line_right = left + (right - left) * 0.18, right - (right - left) * 0.18
    for share in (0.45, 0.6, 0.75):
        y = top + (bottom - top) * share
        pen.rounded_rectangle(
            (line_left, y, line_right, y + size * 0.035), radius=size // 60, fill=GREEN
        )
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    draw(512, maskable=True).save(OUT / "icon-maskable-512.png", optimize=True)
    draw(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)


if __name__ == "__main__":
    main()
