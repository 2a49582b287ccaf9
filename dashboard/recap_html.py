"""A recap as one self-contained HTML file a listener can keep or share: inline CSS, charts as inline SVG.

Nothing is fetched when it is opened (its Content-Security-Policy forbids it), so it reads the same offline, in a
mail attachment or years from now. Every name from the data is escaped: a track called `<script>` is a title.
"""

from __future__ import annotations

from html import escape

from dashboard.recap_personality import Trait, title
from dashboard.recap_queries import Recap

ACCENT = "#1db954"
CSS = f"""
body {{ font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; background: #121212; color: #f5f5f5;
        margin: 0; padding: 24px; }}
main {{ max-width: 880px; margin: auto; }}
h1 {{ font-size: 2.2rem; margin: 0 0 4px; }} h2 {{ color: {ACCENT}; margin: 0 0 12px; font-size: 1.3rem; }}
.card {{ background: #1e1e1e; border-radius: 16px; padding: 20px 24px; margin: 16px 0; }}
.big {{ font-size: 3.2rem; font-weight: 800; color: {ACCENT}; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }}
.muted {{ color: #b3b3b3; font-size: .9rem; }} ol {{ padding-left: 1.4em; }} li {{ margin: 4px 0; }}
svg text {{ fill: #f5f5f5; font: 13px system-ui, sans-serif; }}
"""


def whole(number: float) -> str:
    """How the page and every export print a count or a number of minutes: the same string everywhere."""
    return f"{number:,.0f}"


def day(value, form: str = "%a %d %b %Y") -> str:
    return "—" if value is None else format(value, form)


def recap_html(recap: Recap, traits: list[Trait]) -> str:
    t, cover = recap.totals, recap.genre_coverage
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(recap.listener)}'s recap, {recap.start:%Y-%m-%d} to {recap.end:%Y-%m-%d}</title>
<style>{CSS}</style></head>
<body><main>
<h1>{escape(recap.listener)}'s recap</h1>
<div class="muted">{recap.start:%d %b %Y} to {recap.end:%d %b %Y} · times in {escape(recap.clock)} · made with EchoTune</div>
<section class="card" id="minutes"><h2>Minutes listened</h2><div class="big" id="total-minutes">{whole(t['minutes'])}</div>
<div class="grid">{_stat('plays', t['plays'])}{_stat('artists', t['artists'])}{_stat('tracks', t['tracks'])}
{_stat('days with music', t['active_days'])}</div></section>
<section class="card" id="top-artists"><h2>Top artists</h2>
{_bars([(a.artist_name, a.minutes) for a in recap.top_artists.itertuples()])}</section>
<section class="card" id="top-tracks"><h2>Top songs</h2><ol>{''.join(
        f"<li><b>{escape(s.song_title)}</b> — {escape(s.artist_name)} <span class='muted'>{whole(s.minutes)} min"
        f"{f', {s.versions} versions' if s.versions > 1 else ''}</span></li>" for s in recap.top_songs.itertuples())}
</ol></section>
<section class="card" id="genres"><h2>Top genres</h2>
<p class="muted">Genres known for {cover['share']:.0%} of your music plays ({whole(cover['plays_with_genre'])} of
{whole(cover['music_plays'])}); each share below is of all your music plays.</p><ol>{''.join(
        f"<li>{escape(g.genre)} <span class='muted'>{g.share:.0%}</span></li>" for g in recap.genres.itertuples())}
</ol></section>
<section class="card" id="moments"><h2>Moments</h2><div class="grid">
{_stat('days in a row: your longest streak', recap.streak['days'], f"{day(recap.streak['first'])} to {day(recap.streak['last'])}")}
{_stat('minutes on your busiest day', recap.busiest_day['minutes'], day(recap.busiest_day['day']))}
{_stat('new artists', recap.discoveries['new_artists'], f"{recap.discoveries['share']:.0%} of music plays")}
</div><h2 style="margin-top:16px">When you listened</h2>
<div class="muted">minutes in each hour of the day, {escape(recap.clock)}</div>{_hours(recap)}</section>
<section class="card" id="personality"><h2>{escape(title(traits))}</h2><ul>{''.join(
        f"<li><b>{escape(x.name)}</b>: {escape(x.evidence)} <span class='muted'>({escape(x.rule)})</span></li>"
        for x in traits)}</ul></section>
</main></body></html>
"""


def _stat(label: str, value: float, note: str = "") -> str:
    return (f"<div><div class='big' style='font-size:2rem'>{whole(value)}</div><div>{escape(label)}</div>"
            f"<div class='muted'>{escape(note)}</div></div>")


def _bars(rows: list[tuple[str, float]], width: int = 820, row: int = 34) -> str:
    """Horizontal bars, label above each bar; minutes at the bar's end."""
    if not rows:
        return "<p class='muted'>Nothing in this period.</p>"
    top = max(value for _, value in rows) or 1
    parts = []
    for number, (label, value) in enumerate(rows):
        y, length = number * row * 1.6, max(2, (width - 120) * value / top)
        parts.append(f"<text x='0' y='{y + 14:.0f}'>{escape(str(label))}</text>"
                     f"<rect x='0' y='{y + 20:.0f}' width='{length:.0f}' height='{row * 0.5:.0f}' rx='4' "
                     f"fill='{ACCENT}'/><text x='{length + 8:.0f}' y='{y + 34:.0f}'>{whole(value)} min</text>")
    return (f"<svg role='img' width='100%' viewBox='0 0 {width} {len(rows) * row * 1.6:.0f}' "
            f"xmlns='http://www.w3.org/2000/svg'>{''.join(parts)}</svg>")


def _hours(recap: Recap, width: int = 820, height: int = 140) -> str:
    top = recap.hours["minutes"].max() or 1
    step = width / 24
    bars = "".join(
        f"<rect x='{h * step + 2:.0f}' y='{height - 20 - (height - 30) * m / top:.0f}' width='{step - 4:.0f}' "
        f"height='{(height - 30) * m / top:.0f}' fill='{ACCENT}'><title>{h:02d}:00 {whole(m)} min</title></rect>"
        + (f"<text x='{h * step + 2:.0f}' y='{height - 4}'>{h:02d}</text>" if h % 3 == 0 else "")
        for h, m in zip(recap.hours["hour"], recap.hours["minutes"]))
    return f"<svg role='img' width='100%' viewBox='0 0 {width} {height}' xmlns='http://www.w3.org/2000/svg'>{bars}</svg>"
