"""Model features: listener x track confidence, catalog track features and listener taste profiles."""


from dagster import MaterializeResult, MetadataValue, asset

from assets.automation import ON_UPSTREAM_CHANGE
from assets.metadata import preview
from orchestration.resources import ModelsResource, WarehouseResource
from warehouse import features

GROUP = "features"


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["plays", "tracks", "catalog_tracks"])
def user_item_matrix(warehouse: WarehouseResource, models: ModelsResource) -> MaterializeResult:
    """Listener x track confidence built from behaviour: completion of each play that counts (rule in metadata),
    recency decay and a skip penalty; repeats add up. Artists' rows for the models are summed from it."""
    with warehouse.writer() as con:
        meta = features.build_user_item_matrix(con, models.play_rule)
        return MaterializeResult(metadata={**meta, "top": preview(
            con, "SELECT listener, artist_name, track_name, plays, counted_plays, round(confidence, 2) AS confidence "
                 "FROM user_item_matrix ORDER BY confidence DESC LIMIT 10")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["catalog_tracks"])
def track_features(warehouse: WarehouseResource) -> MaterializeResult:
    """One row per catalog track with audio features, genre and sub-genre, popularity, release year, key and mode:
    the candidates content-based and on-demand recommendations rank."""
    with warehouse.writer() as con:
        meta = features.build_track_features(con)
        return MaterializeResult(metadata={**meta, "genres": preview(
            con, "SELECT genre, count(*) AS tracks FROM track_features GROUP BY 1 ORDER BY 2 DESC LIMIT 10")})


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["user_item_matrix", "track_features", "tracks"])
def taste_profiles(warehouse: WarehouseResource) -> MaterializeResult:
    """Each listener's confidence-weighted audio-feature means over the tracks the catalog describes, with the
    share of their listening that is (the rest is unknown to content features)."""
    with warehouse.writer() as con:
        meta = features.build_taste_profiles(con)
        return MaterializeResult(metadata={**meta, "profiles": MetadataValue.md(con.sql(
            "SELECT listener, round(enriched_share, 3) AS enriched_share, described_tracks, round(energy, 2) AS energy, "
            "round(valence, 2) AS valence, round(tempo) AS tempo FROM taste_profiles ORDER BY listener"
        ).df().to_markdown(index=False))})
