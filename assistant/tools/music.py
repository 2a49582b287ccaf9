"""Catalog search, recommendations with constraints, similar tracks and artists, and why an item was recommended.

Recommendations come from the served model through `serving.requests`, with the listener's dislikes and never-again
items left out, exactly as on the For you page. numpy and `serving.requests` (pandas, scipy) are imported inside the
tools that use them: registering these tools must not slow a chat that only asks about its listening.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.toolkit import (
    BOOLEAN,
    ToolContext,
    ToolError,
    ToolResult,
    integer,
    numbered,
    resolve_positions,
    rows_of,
    string,
    strings,
    tool,
)
from assistant.vocabulary import ACTIVITIES, MOODS, describe_ranges, feature_ranges
from serving.explain import times

if TYPE_CHECKING:
    import numpy as np

    from serving.bundle import ServingBundle

TRACK_COLUMNS = ["rank", "track_id", "track_name", "artist_name", "genre", "release_year", "energy", "valence",
                 "tempo", "score", "share_collaborative", "share_content", "explanation"]


def _track_line(i: int, row: dict, why: bool = True) -> str:
    details = [d for d in (row.get("genre") if isinstance(row.get("genre"), str) else None,
                           f"{row['tempo']:.0f} BPM" if row.get("tempo") == row.get("tempo") and row.get("tempo")
                           else None) if d]
    text = f"{i}. {row['track_name']} — {row['artist_name']}" + (f" ({', '.join(details)})" if details else "")
    return text + (f": {row['explanation']}" if why and row.get("explanation") else "")


def _coverage(ctx: ToolContext) -> str:
    bundle = ctx.bundle
    profile = bundle.profile_means.loc[ctx.listener] if ctx.listener in bundle.profile_means.index else None
    share = profile.get("enriched_share") if profile is not None else None
    taste = (f"your taste profile rests on the {share:.1%} of your listening the catalog describes"
             if share is not None and share == share else "the catalog describes none of your listening yet")
    return f"tracks come from the {len(bundle.tracks):,} catalog tracks with audio features; {taste}"


@dataclass(frozen=True)
class Heard:
    """What the listener has played, from the warehouse rather than the model: plays imported after the last
    training, and plays the model's confidence ignores (skips, seconds-long plays), are still plays."""
    artists: dict[str, int]  # lower-case name -> plays: the catalog and the export may spell one artist differently
    tracks: frozenset[str]   # catalog track ids played, by id or by title and artist

    def credits(self, bundle: ServingBundle) -> set[str]:
        """Catalog artist credits (lower-case) naming a played artist, alone or beside others: a track by "Frank
        Sinatra, Count Basie" is not by a new artist for a listener who plays Frank Sinatra."""
        return {credit for credit in set(bundle.artist_lower) if credit in self.artists
                or any(part.strip() in self.artists for part in re.split(r"[,;]", credit))}


def heard(ctx: ToolContext, bundle: ServingBundle) -> Heard:
    _, artists = ctx.scope.query("SELECT lower(artist_name), count(*) FROM plays WHERE artist_name IS NOT NULL "
                                 "GROUP BY 1", limit=10_000_000)
    _, played = ctx.scope.query("SELECT DISTINCT track_id, lower(track_name), lower(artist_name) FROM plays "
                                "WHERE track_id IS NOT NULL OR track_name IS NOT NULL", limit=10_000_000)
    ids = {track_id for track_id, _, _ in played if track_id}
    titles = {f"{title}\x1f{artist}" for _, title, artist in played if title and artist}
    if titles:
        # pandas' isin hashes; numpy's compares strings by sorting, seconds per call on a large catalog
        keys = bundle.tracks["track_name"].str.lower().fillna("") + "\x1f" + bundle.artist_lower
        ids |= set(bundle.tracks["track_id"].to_numpy()[keys.isin(titles).to_numpy()])
    return Heard(dict(artists), frozenset(ids))


def _catalog_rows(ctx: ToolContext, name: str) -> np.ndarray:
    """Catalog rows for a track name, "title by artist" or "title - artist" (case-insensitive)."""
    import numpy as np

    tracks = ctx.require_bundle().tracks
    lowered = name.lower().strip()
    titles = tracks["track_name"].str.lower().to_numpy()
    for separator in (" by ", " — ", " - "):
        if separator in lowered:
            title, artist = lowered.rsplit(separator, 1)
            rows = np.flatnonzero((titles == title.strip()) & (ctx.bundle.artist_lower == artist.strip()))
            if len(rows):
                return rows
    return np.flatnonzero(titles == lowered)


@tool("search_catalog", "Find tracks in the catalog by title or artist (with genre, year and audio features).",
      required=("query",), query=string("words of a title or an artist"), limit=integer("how many", 1, 50))
def search_catalog(ctx: ToolContext, args: dict) -> ToolResult:
    words = args["query"].strip().lower()
    if len(words) < 2:
        raise ToolError("give me at least two letters of a title or an artist")
    sql = """SELECT c.track_id, c.track_name, c.artist_name, c.genre, c.release_year, c.energy, c.valence, c.tempo,
                    EXISTS (SELECT 1 FROM plays p WHERE p.track_id = c.track_id) AS played
             FROM catalog_tracks c
             WHERE contains(lower(c.track_name), ?) OR contains(lower(c.artist_name), ?)
             ORDER BY lower(c.artist_name) = ? DESC, lower(c.track_name) = ? DESC, c.popularity DESC NULLS LAST,
                      c.track_id
             LIMIT ?"""
    params = [words, words, words, words, args.get("limit", 10)]
    columns, found = ctx.scope.query(sql, params)
    rows = rows_of(columns, found)
    if not rows:
        return ToolResult(summary=f"The catalog has no track or artist matching “{args['query']}”.",
                          query=" ".join(sql.split()))
    listing = numbered(_track_line(i, r, why=False) + (" — you have played it" if r["played"] else "")
                        for i, r in enumerate(rows, start=1))
    return ToolResult(summary=f"In the catalog{listing}", rows=rows, query=" ".join(sql.split()),
                      items=[{"item_type": "track", **r} for r in rows])


@tool("recommend_tracks", "Recommend catalog tracks the listener has not played, with reasons. Constraints: a mood, "
      "an activity, genres, tempo and release-year ranges, artists or tracks to sound like, only new artists.",
      uses_model=True,
      mood=string("mood", list(MOODS)), activity=string("activity", list(ACTIVITIES)),
      genres=strings("genres (as the catalog names them, e.g. pop, hip-hop, electronic)"),
      tempo_min=integer("lowest BPM", 40, 250), tempo_max=integer("highest BPM", 40, 250),
      year_from=integer("earliest release year", 1900, 2100), year_to=integer("latest release year", 1900, 2100),
      like_artists=strings("artists the tracks should sound like"),
      like_tracks=strings("track titles (optionally 'title by artist') the tracks should sound like"),
      new_artists_only=BOOLEAN | {"description": "only artists the listener has never played"},
      n=integer("how many", 1, 50))
def recommend_tracks_tool(ctx: ToolContext, args: dict) -> ToolResult:
    from serving.requests import Constraints, recommend_tracks

    bundle = ctx.require_bundle()
    ranges = feature_ranges(args.get("mood"), args.get("activity"))
    if "tempo_min" in args or "tempo_max" in args:
        low, high = ranges.get("tempo", (0.0, 250.0))
        ranges["tempo"] = (max(low, args.get("tempo_min", 0)), min(high, args.get("tempo_max", 250)))
    seeds = []
    for name in args.get("like_tracks", []):
        rows = _catalog_rows(ctx, name)
        if not len(rows):
            raise ToolError(f"the catalog has no track called “{name}”; search the catalog for its exact title")
        seeds.append(str(bundle.tracks["track_id"].iloc[rows[0]]))
    unknown = [a for a in args.get("like_artists", []) if a.lower() not in set(bundle.artist_lower)]
    if unknown:
        raise ToolError(f"the catalog has no tracks by {', '.join(unknown)}, so I cannot match their sound")
    years = (args.get("year_from", 1900), args.get("year_to", 2100)) if {"year_from", "year_to"} & set(args) else None
    played = heard(ctx, bundle)
    new_only = args.get("new_artists_only", False)
    not_new = frozenset(played.artists) | played.credits(bundle) if new_only else frozenset()
    constraints = Constraints(
        valence=ranges.get("valence"), energy=ranges.get("energy"), tempo=ranges.get("tempo"),
        danceability=ranges.get("danceability"), years=years, genres=tuple(args.get("genres", ())),
        seed_tracks=tuple(seeds), seed_artists=tuple(args.get("like_artists", ())),
        exclude_tracks=played.tracks, exclude_artists=not_new,
        new_artists_only=new_only)
    blocked = ctx.store.blocked(ctx.listener)
    recs = recommend_tracks(bundle, ctx.listener, constraints, n=args.get("n", 10),
                            blocked_tracks=blocked["track"], blocked_artists=blocked["artist"])
    wanted = "; ".join(filter(None, [
        f"{args['mood']} mood" if args.get("mood") else "", f"for {args['activity']}" if args.get("activity") else "",
        describe_ranges(ranges), f"genres {', '.join(args['genres'])}" if args.get("genres") else "",
        f"released {years[0]}–{years[1]}" if years else "",
        f"like {', '.join(args.get('like_artists', []) + args.get('like_tracks', []))}"
        if args.get("like_artists") or args.get("like_tracks") else "",
        "only artists you have never played" if args.get("new_artists_only") else ""]))
    if recs.empty:
        among = "tracks by artists you have never played" if new_only else "tracks you have not played"
        return ToolResult(summary=f"Nothing in the catalog matches all of that ({wanted}) among {among}. Loosen a "
                                  "constraint: a wider tempo, another genre or no mood.", coverage=_coverage(ctx))
    rows = [{c: r.get(c) for c in TRACK_COLUMNS} | {"track_id": r["item_id"]} for r in recs.to_dict("records")]
    tracks = bundle.tracks.set_index("track_id")
    for row in rows:
        row["release_year"] = tracks.at[row["track_id"], "release_year"] if row["track_id"] in tracks.index else None
    listing = numbered(_track_line(i, r) for i, r in enumerate(rows, start=1))
    summary = (f"{len(rows)} tracks you have not played" + (f" ({wanted})" if wanted else "") + f"{listing}")
    return ToolResult(summary=summary, rows=rows, coverage=_coverage(ctx),
                      items=[{"item_type": "track", **r} for r in rows])


@tool("recommend_artists", "Recommend artists the listener has never played, each with the evidence behind it.",
      uses_model=True, n=integer("how many", 1, 50))
def recommend_artists_tool(ctx: ToolContext, args: dict) -> ToolResult:
    from serving.requests import recommend_artists

    bundle = ctx.require_bundle()
    recs = recommend_artists(bundle, ctx.listener, args.get("n", 10), blocked=ctx.store.blocked(ctx.listener)["artist"],
                             exclude_artists=set(heard(ctx, bundle).artists))
    if recs.empty:
        return ToolResult(summary="I have no artists left to suggest: every artist the model knows is one you have "
                                  "already played or turned down.")
    rows = [{"rank": r["rank"], "artist_name": r["artist_name"], "score": r["score"], "explanation": r["explanation"]}
            for r in recs.to_dict("records")]
    listing = numbered(f"{r['rank']}. {r['artist_name']}: {r['explanation']}" for r in rows)
    return ToolResult(summary=f"Artists you have not played yet{listing}", rows=rows,
                      items=[{"item_type": "artist", **r} for r in rows])


@tool("similar_tracks", "Catalog tracks that sound like one track (audio features and genre), leaving out tracks "
      "the listener has played. Name the track, or give its position in the last list shown.",
      uses_model=True, track=string("title, or 'title by artist'"), position=integer("1-based position", 1, 100),
      n=integer("how many", 1, 50))
def similar_tracks_tool(ctx: ToolContext, args: dict) -> ToolResult:
    import numpy as np

    from serving.requests import similar_to_rows

    bundle = ctx.require_bundle()
    if "position" in args:
        seed = resolve_positions(ctx, [args["position"]])[0]
        if seed.get("item_type") == "artist":
            return similar_artists_tool(ctx, {"artist": seed["artist_name"], "n": args.get("n", 10)})
        title, artist = seed["track_name"], seed.get("artist_name") or ""
        rows = [bundle.track_row[seed["track_id"]]] if seed.get("track_id") in bundle.track_row else \
            list(_catalog_rows(ctx, f"{title} by {artist}"))
    elif "track" in args:
        rows = list(_catalog_rows(ctx, args["track"]))
        title, _, artist = args["track"].partition(" by ")
        if rows:
            title, artist = bundle.tracks["track_name"].iloc[rows[0]], bundle.tracks["artist_name"].iloc[rows[0]]
    else:
        raise ToolError("say which track: its title, or its number in the last list")
    note = ""
    if rows:
        rows, label = rows[:1], f"{title} by {artist}"
    else:
        # no audio features for this exact track: the sound of its artist's catalog tracks stands in for it
        rows = list(np.flatnonzero(bundle.artist_lower == artist.lower())) if artist else []
        if not rows:
            raise ToolError(f"the catalog has no audio features for {title}" + (f" or for {artist}" if artist else "")
                            + ", so I cannot find tracks that sound like it")
        label = f"{artist}'s catalog tracks"
        note = f"I have no audio features for {title} itself, so these sound like {label}. "
    played = set(heard(ctx, bundle).tracks) | bundle.played_tracks.get(ctx.listener, set()) \
        | ctx.store.blocked(ctx.listener)["track"]
    n = args.get("n", 10)
    found = similar_to_rows(bundle, np.array(rows), n=n * 3 + len(played & set(bundle.track_row)))
    found = found[~found["track_id"].isin(played)].head(n)
    seed = bundle.tracks.iloc[rows][["energy", "valence", "tempo"]].mean()
    result = []
    for rank, r in enumerate(found.to_dict("records"), start=1):
        why = (f"similarity {r['similarity']:.2f}: energy {r['energy']:.2f} vs {seed['energy']:.2f}, valence "
               f"{r['valence']:.2f} vs {seed['valence']:.2f}, {r['tempo']:.0f} vs {seed['tempo']:.0f} BPM")
        result.append({"rank": rank, "track_id": r["track_id"], "track_name": r["track_name"],
                       "artist_name": r["artist_name"], "genre": r.get("genre"), "release_year": r.get("release_year"),
                       "energy": r["energy"], "valence": r["valence"], "tempo": r["tempo"],
                       "similarity": r["similarity"], "explanation": why})
    listing = numbered(_track_line(i, r) for i, r in enumerate(result, start=1))
    return ToolResult(summary=f"{note}Tracks that sound like {label}, none of which you have played{listing}",
                      rows=result, coverage=_coverage(ctx), items=[{"item_type": "track", **r} for r in result])


@tool("similar_artists", "Artists whose listeners also play a given artist (co-listening over all listeners). "
      "Set new_artists_only when the listener asks for new artists, ones they haven't heard or to discover.",
      required=("artist",), uses_model=True, artist=string("artist name"), n=integer("how many", 1, 50),
      new_artists_only=BOOLEAN | {"description": "only artists the listener has never played"})
def similar_artists_tool(ctx: ToolContext, args: dict) -> ToolResult:
    import numpy as np

    bundle = ctx.require_bundle()
    name = args["artist"].strip()
    column = np.flatnonzero(bundle.items == name.lower())
    kept = bundle.item_item_columns
    where = np.searchsorted(kept, column[0]) if len(column) else len(kept)
    if where >= len(kept) or kept[where] != column[0]:
        raise ToolError(f"too few listeners play {name} for me to say who sounds like them; "
                        "try a better-known artist or ask for tracks like one of theirs")
    weights = bundle.item_item[where].copy()
    weights[where] = -np.inf
    n, new_only = args.get("n", 10), args.get("new_artists_only", False)
    order = np.argsort(-weights, kind="stable")
    order = order[weights[order] > 0]
    played = heard(ctx, bundle).artists  # by lower-case name: the model's spelling may not be the export's
    seed = bundle.display_name(int(column[0]))
    rows, skipped = [], []
    for index in order:
        item = int(kept[index])
        count = played.get(str(bundle.items[item]).lower(), 0)
        if new_only and count:
            skipped.append(bundle.display_name(item))
            continue
        rows.append({"rank": len(rows) + 1, "artist_name": bundle.display_name(item),
                     "weight": round(float(weights[index]), 4), "your_plays": int(count),
                     "explanation": f"listeners who play {seed} also play {bundle.display_name(item)}"
                                    + (f"; you have played them {times(count)}" if count else "; new to you")})
        if len(rows) == n:
            break
    if not rows:
        if new_only and skipped:
            known = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
            return ToolResult(summary=f"I have no new artists like {seed}: every artist whose listeners also play "
                                      f"{seed} is one you already play ({known}). Ask for new tracks like {seed} "
                                      "instead, or for artists you have not played at all.")
        return ToolResult(summary=f"Too few listeners play {seed} alongside other artists for me to name similar ones.")
    listing = numbered(f"{r['rank']}. {r['artist_name']}" + (" (new to you)" if not (r["your_plays"] or new_only)
                                                              else "") for r in rows)
    if new_only:
        summary = f"Artists you have never played whose listeners also play {seed}{listing}"
    elif all(r["your_plays"] for r in rows):
        summary = (f"Listeners who play {seed} also play these, all of them artists you already play (ask for new "
                   f"artists like {seed} to leave them out){listing}")
    else:
        summary = f"Listeners who play {seed} also play{listing}"
    return ToolResult(summary=summary, rows=rows, items=[{"item_type": "artist", **r} for r in rows])


@tool("explain", "Why an item of the last list was recommended: the evidence, each model's share and the audio "
      "features beside the listener's.", required=("position",), position=integer("1-based position", 1, 100))
def explain(ctx: ToolContext, args: dict) -> ToolResult:
    item = resolve_positions(ctx, [args["position"]])[0]
    title = item.get("track_name") or item.get("artist_name")
    who = f"{title} — {item['artist_name']}" if item.get("track_name") else title
    if not item.get("explanation"):
        plays = item.get("plays")
        reason = f"it is on that list because you played it {times(plays)}" if plays else "it matched your search"
        return ToolResult(summary=f"Number {args['position']}, {who}, is not a recommendation: {reason}.", rows=[item])
    parts = [f"Number {args['position']}, {who}: {item['explanation']}."]
    if item.get("share_collaborative") is not None:
        parts.append(f"Its score is {item['share_collaborative']:.0%} collaborative evidence (what listeners like you "
                     f"play) and {item['share_content']:.0%} taste (how it sounds next to your music).")
    features = [f"{f} {item[f]:.2f}" for f in ("energy", "valence") if isinstance(item.get(f), float)]
    if features:
        parts.append("It has " + ", ".join(features) + (f" at {item['tempo']:.0f} BPM" if item.get("tempo") else "")
                     + ".")
    return ToolResult(summary=" ".join(parts), rows=[item])
