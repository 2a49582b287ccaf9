"""One song is one song: the SQL that maps a track's title and artist to the song it is a version of.

A song key is the normalized primary artist and the title with its version suffixes removed, so "Shallow - Radio
Edit", "Levels (Live at Ushuaïa)" and "Hotel California - 2013 Remaster" join their plain versions. No catalog we
load carries ISRCs (neither Spotify CSV has an `isrc` column, nor does `catalog_tracks`), so names are all we have;
a catalog with ISRCs would key songs by them first.

Remixes and sped-up or slowed edits (even the artist's own "Sped Up Version") stay songs of their own: they are
other recordings, often by other people and in another genre, listeners pick them on purpose, and recommending the
remix of a song they play is a real discovery. "Taylor's Version"-style re-recordings and "Film Version"s are the
same work by the same artist, so they merge. Featured and "with" credits are not part of a work's name, wherever
they stand in the title.

Everything here is a DuckDB expression (RE2 regular expressions), so the mapping runs inside one query over any
number of tracks.
"""

from __future__ import annotations

# Credits and attributions inside brackets: "(feat. Sia)", "[with ZAYN]", "(Drake ft. Rick Ross)", "(From "War")".
_CREDIT = (r"\s*[(\[](?:[^()\[\]]*\b(?:feat|ft)\b\.?|featuring|with|from) [^()\[\]]*[)\]]"
           r"|\s+-\s+from .*$")  # "Enemy - From the series Arcane League of Legends"

# What a version suffix says, matched against its whole text (case-insensitive).
_VERSION = "|".join([
    # 2015 Remaster, Remastered 2011, 2011 Remastered Version
    r"(?:\d{4} )?(?:digital(?:ly)? )?re-?master(?:ed)?(?: \d{4})?(?: version| edition)?",
    r"live\b[^()\[\]]*|[^()\[\]]* live",  # Live, Live at Wembley 1986, Live Aid, One More Light Live
    r"(?:radio|single|album|short|clean|explicit|dirty|extended|original|mono|stereo) (?:edit|version|mix)",
    r"(?:\d{4} |radio |single )?edit",
    r"mono|stereo|unplugged|extended|re-?recording|re-?recorded",
    r"acoustic(?: version)?",
    r"(?:super )?deluxe(?: edition| version)?",
    r"bonus track",
    r"[^()\[\]]*\bdemo",  # Demo, 4-track demo
    r"[^()\[\]]* (?:version|ver\.|edition)",  # Film Version, Taylor's Version, Twin Ver., 50th Anniversary Edition
])
# Several may follow each other: "Single Version; Remastered".
_VERSIONS = rf"(?:{_VERSION})(?:\s*;\s*(?:{_VERSION}))*"
# One or more suffixes at the end, each after " - " or in brackets: "(feat. Sia) - Radio Edit" was already stripped
# of its credit, so "Dusk Till Dawn - Radio Edit" remains. A bracketed version may be followed by the release it is
# from: "In The End (Live BBC Radio One) - B-Side Rarities".
_SUFFIXES = rf"(?i)(?:\s+-\s+(?:{_VERSIONS})|\s*[(\[](?:{_VERSIONS})[)\]](?:\s+-\s+[^()\[\]]+)?)+$"
_OTHER_RECORDING = r"(?i)\b(?:re-?mix|rmx|sped|slowed|reverb|nightcore)\b"


def _sql(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


def uncredited_sql(title: str) -> str:
    """The title without featured-artist and "from" credits."""
    return f"trim(regexp_replace({title}, {_sql('(?i)' + _CREDIT)}, '', 'g'))"


def version_suffix_sql(title: str) -> str:
    """The version suffixes at the end of an uncredited title ('' when none), unless they name a remix or a sped-up
    or slowed edit."""
    suffix = f"regexp_extract({title}, {_sql(_SUFFIXES)})"
    return f"CASE WHEN regexp_matches({suffix}, {_sql(_OTHER_RECORDING)}) THEN '' ELSE {suffix} END"


def version_label_sql(suffix: str) -> str:
    """' - 2015 Remaster' -> '2015 Remaster'; ' (Live) [Deluxe]' -> 'Live, Deluxe'; '' -> NULL."""
    parts = f"regexp_replace({suffix}, '\\s*[)\\]]?\\s*(?:\\s-\\s|[(\\[])\\s*', ', ', 'g')"
    return f"nullif(trim(regexp_replace({parts}, '[)\\]]', '', 'g'), ', '), '')"


def comparable_sql(text: str) -> str:
    """Lower case, no accents, no punctuation (typographic quotes included), single spaces. Text that is all
    punctuation keeps it, so "?" and "!" stay two songs."""
    folded = f"lower(strip_accents({text}))"
    bare = f"trim(regexp_replace(regexp_replace({folded}, '[[:punct:]’‘“”]', '', 'g'), '\\s+', ' ', 'g'))"
    return f"coalesce(nullif({bare}, ''), {folded})"


def primary_artist_sql(artist: str) -> str:
    """Catalogs list every artist ("Lady Gaga, Bruno Mars"); exports name one. The first is the song's artist.
    ("Earth, Wind & Fire" becomes "Earth" on every side alike, which keys its songs just as well.)"""
    return f"split_part({artist}, ', ', 1)"


def song_title_sql(title: str) -> str:
    """The comparable title without credits and version suffixes: "Shallow - Radio Edit" -> 'shallow'."""
    uncredited = uncredited_sql(title)
    stripped = f"left({uncredited}, length({uncredited}) - length({version_suffix_sql(uncredited)}))"
    return comparable_sql(f"coalesce(nullif({stripped}, ''), {title})")  # "(Live)" alone is a title


def song_key_sql(title: str, artist: str) -> str:
    """'song:' + comparable primary artist + '|' + comparable song title."""
    return f"'song:' || {comparable_sql(primary_artist_sql(artist))} || '|' || {song_title_sql(title)}"


def version_sql(title: str) -> str:
    """What distinguishes this version ('Radio Edit', '2015 Remaster', 'Live'), NULL for the plain one."""
    return version_label_sql(version_suffix_sql(uncredited_sql(title)))
