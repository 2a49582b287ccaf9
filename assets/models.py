"""The served model: trained on everything (with listener feedback), gated before it can reach listeners."""


from dagster import (AssetCheckResult, AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset,
                     asset_check)

from assets.automation import ON_UPSTREAM_CHANGE
from orchestration.resources import ModelsResource, OperationalStoreResource, WarehouseResource

GROUP = "models"


class ServedModelConfig(Config):
    method: str = "hybrid"  # hybrid | ease | als | rp3beta | bpr: what listeners would be served


@asset(group_name=GROUP, automation_condition=ON_UPSTREAM_CHANGE,
       deps=["model_evaluation", "user_item_matrix", "track_features", "taste_profiles", "track_songs"])
def served_model(context: AssetExecutionContext, config: ServedModelConfig, warehouse: WarehouseResource,
                 models: ModelsResource, operational: OperationalStoreResource) -> MaterializeResult:
    """The candidate for serving: the tuned method trained on HetRec users and every Spotify listener, with their
    feedback applied (likes add confidence, disliked artists are removed). Written as a candidate bundle; only the
    recommendations asset promotes it, after the gate passed."""
    from models.history import latest_run
    from models.training import train_served
    from models.tuning import SERVED_DEFAULTS

    feedback = operational.store().all_feedback()
    with warehouse.reader() as con:
        run = latest_run(con)
        params = run["params"] if run else SERVED_DEFAULTS
        bundle, meta = train_served(con, params, feedback, version=context.run_id, method=config.method)
    path = models.registry().save_candidate(bundle)
    return MaterializeResult(metadata={
        **{k: v for k, v in meta.items() if k not in ("feedback_applied", "weights")},
        "method": config.method, "evaluation_run": run["run_id"] if run else "none (defaults)",
        "feedback_documents": len(feedback), "feedback_applied": MetadataValue.json(meta["feedback_applied"]),
        "blend_weights": MetadataValue.json(meta["weights"]), "candidate": MetadataValue.path(str(path))})


@asset_check(asset=served_model, blocking=True,
             description="The model gate: the served method's nDCG@10 must be at least ECHOTUNE_GATE_RATIO (2 by "
                         "default) times the popularity baseline's (HetRec split, same run). A failing gate "
                         "stops the recommendations from being refreshed. Its verdict, with what to do, is also "
                         "kept beside the models for the dashboard and `make demo`.")
def served_model_gate(warehouse: WarehouseResource, models: ModelsResource) -> AssetCheckResult:
    from models.evaluation import QUALITY_RATIO, REFERENCE, SERVED
    from models.history import latest_run, run_metrics
    from serving.registry import CANDIDATE

    registry = models.registry()

    def verdict(passed: bool, reason: str, advice: str, metadata: dict | None = None) -> AssetCheckResult:
        registry.save_verdict(passed, reason, advice)
        return AssetCheckResult(passed=passed, metadata={"reason": reason, "advice": advice, **(metadata or {})})

    bundle = registry.load(CANDIDATE)
    with warehouse.reader() as con:
        run = latest_run(con)
        if run is None or bundle is None:
            return verdict(False, "no evaluation run or no candidate model yet",
                           "materialize model_evaluation and served_model (`echotune materialize`)")
        metrics = run_metrics(con, run["run_id"], run["gate_dataset"]).set_index("model")
    method = bundle.method
    served_name = SERVED if method == "hybrid" else method
    if served_name not in metrics.index:
        return verdict(False, f"{method} was not evaluated in run {run['run_id']}",
                       "materialize model_evaluation again, then served_model")
    served, popularity = metrics.at[served_name, "ndcg_at_10"], metrics.at["popularity", "ndcg_at_10"]
    ratio = served / popularity if popularity else 0.0
    passed = bool(ratio >= models.gate_ratio)
    reference = metrics.at[REFERENCE, "ndcg_at_10"] if REFERENCE in metrics.index else None
    listeners = int(metrics.at[served_name, "users"])
    why = (f"{method} nDCG@10 {served:.4f} is {ratio:.2f}x popularity's {popularity:.4f} "
           f"({'meets' if passed else 'below'} the {models.gate_ratio:g}x gate on {run['gate_dataset']}, "
           f"{listeners} {'users' if run['gate_dataset'] == 'hetrec' else 'listeners'})")
    return verdict(passed, why, "" if passed else _advice(run["gate_dataset"]), {
        "method": method, "served_ndcg@10": round(float(served), 4),
        "popularity_ndcg@10": round(float(popularity), 4), "ratio": round(float(ratio), 3),
        "vs_reference": round(float(served / reference), 3) if reference else None,
        "quality_target_met": bool(reference and served >= QUALITY_RATIO * reference),
        "evaluation_run": run["run_id"], "dataset": run["gate_dataset"]})


def _advice(dataset: str) -> str:
    """What an operator can do about a blocked gate: without HetRec the models learn only from the imported
    listeners, and a handful of them is too few for any model to beat popularity."""
    if dataset == "listeners":
        return ("load the HetRec Last.fm set (`echotune load-lastfm`) or import more listeners' exports, then run "
                "`echotune materialize`")
    return ("compare the models on the Models page, set served_model's `method` to one that beats popularity, "
            "then materialize served_model and recommendations")
