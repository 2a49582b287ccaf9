"""Models: every model's metrics beside the popularity baseline, the trend over runs, the gate and what is served."""

import altair as alt
import streamlit as st

from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import served_bundle
from echotune.settings import Settings
from models.evaluation import QUALITY_RATIO, REFERENCE, SERVED

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
               help=f"Served nDCG@10 must be at least {gate_ratio:g}x popularity's on {latest['gate_dataset']}.")
cols[2].metric("vs popularity", f"{ratio:.2f}x" if ratio is not None else "n/a")
cols[3].metric(f"vs {REFERENCE}", f"{vs_reference:.3f}x" if vs_reference is not None else "n/a",
               help=f"Target: {QUALITY_RATIO}x untuned EASE (lambda 200, binary, artists with 3+ listeners).")
st.caption(f"Latest evaluation {latest['evaluated_at']:%Y-%m-%d %H:%M} UTC, run {latest['run_id']}.")

for dataset, frame in table.groupby("dataset", sort=False):
    st.subheader({"hetrec": "HetRec Last.fm (random 80/20 per user)",
                  "listeners": "Spotify listeners (last 20% of listening time)"}.get(dataset, dataset))
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("ndcg_at_10:Q", title="nDCG@10"), y=alt.Y("model:N", sort="-x", title=None),
        color=alt.condition(alt.datum.model == "popularity", alt.value("#999"), alt.value("#1DB954")),
        tooltip=list(frame.columns)).properties(height=30 * len(frame))
    st.altair_chart(chart, width="stretch")
    st.dataframe(frame.drop(columns="dataset"), hide_index=True, width="stretch")

st.subheader("Over runs")
metric = st.selectbox("Metric", ["ndcg_at_10", "recall_at_20", "precision_at_10", "map_at_10", "hit_at_10",
                                 "coverage", "novelty", "diversity", "popularity_bias"], key="history_metric")
history = ask(q.evaluation_history, metric)
dataset = st.segmented_control("Dataset", sorted(history["dataset"].unique()), default=latest["gate_dataset"],
                               key="history_dataset") or latest["gate_dataset"]
st.altair_chart(alt.Chart(history[history["dataset"] == dataset]).mark_line(point=True).encode(
    x=alt.X("evaluated_at:T", title="run"), y=alt.Y("value:Q", title=metric), color="model:N",
    tooltip=["evaluated_at:T", "model:N", "value:Q"]), width="stretch")
with st.expander("Tuned parameters of the latest run"):
    st.json(latest["tuned_params"])
