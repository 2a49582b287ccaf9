"""What listeners get: the gated model promoted, top tracks and artists per listener with their evidence."""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.automation import ON_UPSTREAM_CHANGE
from orchestration.resources import ModelsResource, OperationalStoreResource, WarehouseResource

GROUP = "serving"
TRACKS_PER_LISTENER = 50
ARTISTS_PER_LISTENER = 20


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE, deps=["served_model"])
def recommendations(context: AssetExecutionContext, warehouse: WarehouseResource, models: ModelsResource,
                    operational: OperationalStoreResource) -> MaterializeResult:
    """Top tracks and artists per listener with score, each model's share and an explanation from the evidence.
    Runs only after the model gate passed: it promotes the candidate to served, replaces the recommendations
    table and the operational store's served documents (which expire after a week), and adds what is new to
    served_history. Disliked and never-again items are left out."""
    from serving.batch import recommend_everyone

    bundle = models.registry().promote()
    store = operational.store()
    frame = recommend_everyone(bundle, store, TRACKS_PER_LISTENER, ARTISTS_PER_LISTENER)
    served_at = datetime.now(UTC).replace(tzinfo=None)
    with warehouse.writer() as con:
        con.execute("CREATE OR REPLACE TABLE recommendations AS SELECT * FROM frame")
        if len(frame):  # an item this version already served keeps the time it was first served
            con.execute("""INSERT INTO served_history SELECT model_version, listener, item_type, item_id, track_name,
                                  artist_name, rank, ? FROM frame ON CONFLICT DO NOTHING""", [served_at])
        sample = con.sql("SELECT listener, rank, item_type, artist_name, track_name, round(score, 2) AS score, "
                         "explanation FROM recommendations WHERE rank <= 3 ORDER BY listener, item_type, rank").df()
    # outside the warehouse lock: the operational store is its own database
    served = sum(store.save_served(listener, group.drop(columns="listener").to_dict("records"), bundle.version)
                 for listener, group in frame.groupby("listener"))
    context.log.info(f"served {served} recommendations from model {bundle.version}")
    return MaterializeResult(metadata={
        "rows": len(frame), "listeners": int(frame["listener"].nunique()) if len(frame) else 0,
        "model_version": bundle.version, "method": bundle.method, "served_documents": served,
        "operational_store": store.engine, "sample": MetadataValue.md(sample.to_markdown(index=False))})
