"""Offline evaluation of every model beside the popularity baseline, kept per run."""


from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from assets.automation import WHEN_MISSING
from orchestration.resources import ModelsResource, WarehouseResource

GROUP = "evaluation"


@asset(group_name=GROUP, automation_condition=WHEN_MISSING, deps=["lastfm_user_artists", "lastfm_artists", "user_item_matrix", "track_features"])
def model_evaluation(context: AssetExecutionContext, warehouse: WarehouseResource,
                     models: ModelsResource) -> MaterializeResult:
    """Every model scored on held-out data beside popularity and an untuned EASE reference: HetRec with a random
    per-user 80/20 split (hyper-parameters tuned on a validation split carved from its training side), and the
    Spotify listeners with a temporal split (their last 20% of listening time). Results are appended per run to
    model_evaluations; the tuned parameters to model_runs."""
    import numpy as np
    import pandas as pd

    from models.datasets import artist_content_model, hetrec, listener_temporal_split
    from models.evaluation import QUALITY_RATIO, REFERENCE, SERVED, evaluate
    from models.history import record_run
    from models.splits import random_per_user
    from models.tuning import SERVED_DEFAULTS

    results = {}
    with warehouse.reader() as con:
        data = hetrec(con)
        if data.matrix.nnz:
            train, test = random_per_user(data.matrix)
            results["hetrec"] = evaluate(train, test, artist_content_model(con, data.items),
                                         params=None if models.tune else dict(SERVED_DEFAULTS), progress=context.log.info)
        train, test, listeners, items = listener_temporal_split(con)
        if len(listeners) and test.nnz:
            params = results["hetrec"].params if "hetrec" in results else None
            results["listeners"] = evaluate(train, test, artist_content_model(con, items), params=params,
                                            users=np.array([u for u in listeners if test[u].nnz]), progress=context.log.info)
    if not results:
        raise ValueError("nothing to evaluate: load the HetRec Last.fm set or import listening history first")
    gate_dataset = "hetrec" if "hetrec" in results else "listeners"
    with warehouse.writer() as con:
        record_run(con, context.run_id, results, gate_dataset)
    meta = {"run_id": context.run_id, "gate_dataset": gate_dataset}
    for dataset, evaluation in results.items():
        table = pd.DataFrame(evaluation.rows).drop(columns="params").round(4)
        meta[f"{dataset}_metrics"] = MetadataValue.md(table.to_markdown(index=False))
        meta[f"{dataset}_served_ndcg@10"] = round(evaluation.metric(SERVED), 4)
        meta[f"{dataset}_popularity_ndcg@10"] = round(evaluation.metric("popularity"), 4)
        meta[f"{dataset}_served_vs_reference"] = round(evaluation.metric(SERVED) / evaluation.metric(REFERENCE), 3) \
            if evaluation.metric(REFERENCE) else 0.0
    meta["quality_target"] = f"served nDCG@10 >= {QUALITY_RATIO}x {REFERENCE} on {gate_dataset}"
    meta["tuned_params"] = MetadataValue.json(results[gate_dataset].params)
    return MaterializeResult(metadata=meta)

