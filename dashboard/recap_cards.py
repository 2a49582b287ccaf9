"""A recap as square PNG cards, one per story (minutes, top artists, top songs, personality), drawn with Pillow.

Pillow is already installed for Streamlit; Altair's image export would need vl-convert, and these cards are text
and bars, which Pillow draws directly.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from dashboard.recap_html import whole
from dashboard.recap_personality import Trait, title
from dashboard.recap_queries import Recap

SIZE = 1080
MARGIN = 80
BACKGROUND, CARD_TEXT, MUTED, ACCENT = "#121212", "#f5f5f5", "#b3b3b3", "#1db954"
# DejaVu covers most scripts artists' names are written in; Pillow's own font is the fallback where it is missing
FONT_FILES = {True: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
              False: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"}


def cards(recap: Recap, traits: list[Trait]) -> dict[str, bytes]:
    """File name -> PNG bytes."""
    slug = f"{recap.listener}_{recap.start:%Y%m%d}-{recap.end:%Y%m%d}"
    drawn = {"minutes": _minutes(recap), "top_artists": _ranked(recap, "Top artists", [
                 (a.artist_name, f"{whole(a.minutes)} min") for a in recap.top_artists.itertuples()]),
             "top_songs": _ranked(recap, "Top songs", [
                 (f"{s.song_title} — {s.artist_name}", f"{whole(s.minutes)} min") for s in recap.top_songs.itertuples()]),
             "personality": _personality(recap, traits)}
    return {f"recap_{slug}_{name}.png": _png(image) for name, image in drawn.items()}


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = Path(FONT_FILES[bold])
    return ImageFont.truetype(str(path), size) if path.exists() else ImageFont.load_default(size)


def _canvas(recap: Recap, heading: str) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN, MARGIN), _fit(heading, _font(60, True), SIZE - 2 * MARGIN), font=_font(60, True), fill=ACCENT)
    footer = f"{recap.listener} · {recap.start:%d %b %Y} to {recap.end:%d %b %Y} · EchoTune"
    draw.text((MARGIN, SIZE - MARGIN - 30), _fit(footer, _font(28), SIZE - 2 * MARGIN), font=_font(28), fill=MUTED)
    return image, draw


def _fit(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    """The text, cut with an ellipsis where it would run off the card."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and font.getlength(f"{line} {word}") > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines


def _minutes(recap: Recap) -> Image.Image:
    image, draw = _canvas(recap, "Minutes listened")
    t = recap.totals
    draw.text((MARGIN, 260), whole(t["minutes"]), font=_font(200, True), fill=CARD_TEXT)
    lines = [f"{whole(t['plays'])} plays · {whole(t['artists'])} artists · {whole(t['tracks'])} tracks",
             f"Longest streak: {whole(recap.streak['days'])} days in a row",
             f"Busiest day: {whole(recap.busiest_day['minutes'])} min"
             + (f" on {recap.busiest_day['day']:%d %b %Y}" if recap.busiest_day["day"] else ""),
             f"Times in {recap.clock}"]
    for number, line in enumerate(lines):
        draw.text((MARGIN, 560 + number * 70), _fit(line, _font(40), SIZE - 2 * MARGIN), font=_font(40),
                  fill=CARD_TEXT if number < 3 else MUTED)
    return image


def _ranked(recap: Recap, heading: str, rows: list[tuple[str, str]]) -> Image.Image:
    image, draw = _canvas(recap, heading)
    if not rows:
        draw.text((MARGIN, 240), "Nothing in this period.", font=_font(44), fill=MUTED)
    for number, (name, value) in enumerate(rows):
        y = 220 + number * 150
        draw.text((MARGIN, y), str(number + 1), font=_font(90, True), fill=ACCENT)
        draw.text((MARGIN + 110, y + 6), _fit(name, _font(48, True), SIZE - 2 * MARGIN - 110), font=_font(48, True),
                  fill=CARD_TEXT)
        draw.text((MARGIN + 110, y + 70), value, font=_font(36), fill=MUTED)
    return image


def _personality(recap: Recap, traits: list[Trait]) -> Image.Image:
    image, draw = _canvas(recap, "Your listening personality")
    y = 190
    for line in _wrap(title(traits), _font(72, True), SIZE - 2 * MARGIN):
        draw.text((MARGIN, y), line, font=_font(72, True), fill=CARD_TEXT)
        y += 90
    y += 30
    for trait in traits:
        draw.text((MARGIN, y), trait.name, font=_font(40, True), fill=ACCENT)
        y += 54
        for line in _wrap(trait.evidence[:1].upper() + trait.evidence[1:], _font(32), SIZE - 2 * MARGIN)[:3]:
            draw.text((MARGIN, y), line, font=_font(32), fill=CARD_TEXT)
            y += 42
        y += 24
    return image


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
