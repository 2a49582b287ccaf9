"""The interaction sets models are trained and evaluated on, read from the warehouse.

Artists are the items that connect both sources: HetRec's 1,892 Last.fm users give collaborative signal, and each
Spotify listener joins them as one more user, matched by lower-cased artist name.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from models.interactions import Interactions
from models.splits import temporal_per_user

HETREC = """
SELECT 'lastfm:' || a.user_id AS user, lower(n.name) AS item, sum(a.plays)::DOUBLE AS weight
FROM lastfm_user_artists a JOIN lastfm_artists n USING (artist_id) WHERE n.name IS NOT NULL GROUP BY ALL"""

LISTENER_ARTISTS = """
SELECT listener AS user, lower(artist_name) AS item, sum(confidence) AS weight
FROM user_item_matrix WHERE confidence > 0 GROUP BY ALL"""

LISTENER_ARTIST_PLAYS = """
SELECT listener AS user, lower(artist_name) AS item, ts FROM plays
WHERE content_type IN ('music', 'video') AND artist_name IS NOT NULL AND track_name IS NOT NULL
  AND ms_played >= 30000"""


def hetrec(con: duckdb.DuckDBPyConnection) -> Interactions:
    return Interactions.from_frame(con.sql(HETREC).df())


def listener_temporal_split(con: duckdb.DuckDBPyConnection
                            ) -> tuple[sp.csr_matrix, sp.csr_matrix, list[int], np.ndarray]:
    """Each listener's last 20% of listening time held out (new artists only), HetRec users as training background.

    Returns train, test (same users x items), the row indices of the Spotify listeners (the only users scored)
    and the item labels.
    """
    events = con.sql(LISTENER_ARTIST_PLAYS).df()
    train_events, test_events = temporal_per_user(events)
    train_counts = train_events.groupby(["user", "item"]).size().rename("weight").reset_index()
    test_counts = test_events.groupby(["user", "item"]).size().rename("weight").reset_index()
    background = con.sql(HETREC).df()
    everything = pd.concat([background, train_counts, test_counts.assign(weight=0.0)])
    data = Interactions.from_frame(everything)
    users = {u: i for i, u in enumerate(data.users)}
    items = {t: i for i, t in enumerate(data.items)}
    train = _aligned(pd.concat([background, train_counts]), users, items, data.shape)
    test = _aligned(test_counts, users, items, data.shape)
    listeners = sorted(users[u] for u in train_counts["user"].unique())
    return train, test, listeners, data.items


def _aligned(frame: pd.DataFrame, users: dict, items: dict, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((frame["weight"].to_numpy("float32"),
                            (frame["user"].map(users).to_numpy(), frame["item"].map(items).to_numpy())), shape=shape)
    matrix.sum_duplicates()
    matrix.eliminate_zeros()
    return matrix


ARTIST_CONTENT = """
SELECT lower(artist_name) AS item, avg(danceability) AS danceability, avg(energy) AS energy, avg(valence) AS valence,
       avg(tempo) AS tempo, avg(loudness) AS loudness, avg(speechiness) AS speechiness,
       avg(acousticness) AS acousticness, avg(instrumentalness) AS instrumentalness, avg(liveness) AS liveness,
       avg(popularity) AS popularity, avg(release_year) AS release_year, mode(genre) AS genre,
       mode(subgenre) AS subgenre
FROM track_features GROUP BY 1"""


def artist_content_frame(con: duckdb.DuckDBPyConnection, items: np.ndarray) -> pd.DataFrame:
    """Catalog features averaged per artist, one row per item in `items` (empty where the catalog has none)."""
    features = con.sql(ARTIST_CONTENT).df().set_index("item")
    return features.reindex(pd.Index(items, name="item")).reset_index(drop=True)


def artist_content_model(con: duckdb.DuckDBPyConnection, items: np.ndarray):
    """A ContentKNN over `items`' catalog features, or None when the catalog describes none of them."""
    from models.content import ContentKNN, content_vectors

    vectors = content_vectors(artist_content_frame(con, items))
    return ContentKNN(vectors) if vectors.size and (~np.isnan(vectors).any(axis=1)).any() else None
