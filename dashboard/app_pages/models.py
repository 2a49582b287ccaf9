"""Models: every model's metrics beside the popularity baseline, the trend over runs, the gate and what is served."""

import altair as alt
import streamlit as st

from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import served_bundle
from echotune.settings import Settings
from models.evaluation import QUALITY_RATIO, REFERENCE, SERVED

# What each evaluation column means, in the words shown on this page (the warehouse keeps the short names)
METRICS = {
    "ndcg_at_10": ("Ranking quality (nDCG@10)", "How high the held-out plays rank in the top 10: 1 = all at the top."),
    "recall_at_20": ("Found in top 20 (recall@20)", "Share of each listener's held-out items found in the top 20."),
    "precision_at_10": ("Hits in top 10 (precision@10)", "Share of the top 10 that the listener went on to play."),
    "map_at_10": ("Mean average precision@10", "Precision averaged over the positions of the hits in the top 10."),
    "hit_at_10": ("Listeners with a hit in top 10", "Share of listeners with at least one held-out item in their top 10."),
    "coverage": ("Catalog coverage", "Share of the catalog recommended to anyone."),
    "novelty": ("Novelty", "How unfamiliar the recommendations are (mean self-information of their popularity)."),
    "diversity": ("Diversity", "How different the items in one list are from each other."),
    "popularity_bias": ("Popularity bias", "How much the lists lean on popular items (lower is more varied)."),
}
COLUMNS = {"model": "Model", "users": "Listeners evaluated", "vs_popularity": "vs popularity",
           "vs_reference": f"vs {REFERENCE}", "fit_seconds": "Training time (s)"} | {
    name: label for name, (label, _) in METRICS.items()}

st.title("Models")
if connection() is None:
    st.stop()
runs = ask(q.model_runs)
if runs.empty:
    st.info("No evaluation yet: materialize model_evaluation in the Dagster UI (or run `make demo`).")
    st.stop()

latest = runs.iloc[0]
bundle = served_bundle()
table = ask(q.run_evaluation, latest["run_id"])
gate = table[table["dataset"] == latest["gate_dataset"]].set_index("model")
method = bundle.method if bundle else "hybrid"
served_name = SERVED if method == "hybrid" else method
ratio = gate.at[served_name, "vs_popularity"] if served_name in gate.index else None
vs_reference = gate.at[served_name, "vs_reference"] if served_name in gate.index else None

cols = st.columns(4)
cols[0].metric("Served model", method if bundle else "none yet",
               help=f"version {bundle.version}" if bundle else "The gate has not let a model through yet.")
gate_ratio = Settings.from_env().gate_ratio
cols[1].metric("Gate", "passed" if ratio is not None and ratio >= gate_ratio else "blocked",
               help=f"Served ranking quality (nDCG@10) must be at least {gate_ratio:g}x popularity's on {latest['gate_dataset']}.")
cols[2].metric("vs popularity", f"{ratio:.2f}x" if ratio is not None else "n/a")
cols[3].metric(f"vs {REFERENCE}", f"{vs_reference:.3f}x" if vs_reference is not None else "n/a",
               help=f"Target: {QUALITY_RATIO}x untuned EASE (lambda 200, binary, artists with 3+ listeners).")
st.caption(f"Latest evaluation {latest['evaluated_at']:%Y-%m-%d %H:%M} UTC, run {latest['run_id']}.")

for dataset, frame in table.groupby("dataset", sort=False):
    st.subheader({"hetrec": "HetRec Last.fm (random 80/20 per user)",
                  "listeners": "Spotify listeners (last 20% of listening time)"}.get(dataset, dataset))
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("ndcg_at_10:Q", title=METRICS["ndcg_at_10"][0]), y=alt.Y("model:N", sort="-x", title=None),
        color=alt.condition(alt.datum.model == "popularity", alt.value("#999"), alt.value("#1DB954")),
        tooltip=[alt.Tooltip(c, title=COLUMNS.get(c, c)) for c in frame.columns if c != "dataset"]
    ).properties(height=30 * len(frame))
    st.altair_chart(chart, width="stretch")
    st.dataframe(frame.drop(columns="dataset").rename(columns=COLUMNS), hide_index=True, width="stretch",
                 column_config={label: st.column_config.NumberColumn(label, help=METRICS[name][1], format="%.3f")
                                for name, label in COLUMNS.items() if name in METRICS})

st.subheader("Over runs")
metric = st.selectbox("Metric", list(METRICS), format_func=lambda m: METRICS[m][0], key="history_metric")
st.caption(METRICS[metric][1])
history = ask(q.evaluation_history, metric)
dataset = st.segmented_control("Dataset", sorted(history["dataset"].unique()), default=latest["gate_dataset"],
                               key="history_dataset") or latest["gate_dataset"]
over_runs = history[history["dataset"] == dataset].assign(
    run=lambda h: h["evaluated_at"].dt.strftime("%d %b %Y %H:%M:%S"))  # runs seconds apart: a time axis shows ".731"
st.altair_chart(alt.Chart(over_runs).mark_line(point=True).encode(
    x=alt.X("run:O", title="Evaluation run", sort=alt.EncodingSortField("evaluated_at", op="min"), axis=alt.Axis(labelAngle=-30)),
    y=alt.Y("value:Q", title=METRICS[metric][0]), color=alt.Color("model:N", title="Model"),
    tooltip=[alt.Tooltip("run:O", title="Run"), alt.Tooltip("model:N", title="Model"),
             alt.Tooltip("value:Q", title=METRICS[metric][0], format=".3f")]), width="stretch")
with st.expander("Tuned parameters of the latest run"):
    st.json(latest["tuned_params"])
