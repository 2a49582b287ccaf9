"""Monitoring, for whoever runs EchoTune: Dagster's runs, assets and checks (read from its GraphQL API, so this page
works against any instance the Dagster UI shows), then what the warehouse and the operational store record: imports
and quarantine, Spotify syncs, models, what became of served recommendations, and the chat's thumbs and unanswered
questions. Those keep working while Dagster is down."""

import altair as alt
import streamlit as st

from dashboard import charts, dagster_api, store_reports
from dashboard import queries as q
from dashboard.data import ask, connection
from dashboard.served import md, spotify, store
from echotune.settings import Settings

GOOD, BAD, WARN, IDLE, BUSY = "#1DB954", "#d62728", "#ff9f1c", "#999999", "#1f77b4"
RUN_COLOURS = alt.Scale(domain=["SUCCESS", "FAILURE", "STARTED", "QUEUED", "CANCELED"],
                        range=[GOOD, BAD, BUSY, IDLE, IDLE])
CHECK_COLOURS = alt.Scale(domain=["passed", "warned", "failed", "not evaluated", "running"],
                          range=[GOOD, WARN, BAD, IDLE, BUSY])
OUTCOMES = ["played", "skipped", "liked", "disliked"]
OUTCOME_COLOURS = alt.Scale(domain=OUTCOMES, range=[GOOD, WARN, BUSY, BAD])
ROW_FATES = ["loaded", "duplicates", "superseded", "quarantined"]
ROW_COLOURS = alt.Scale(domain=ROW_FATES, range=[GOOD, "#b9c6cf", "#7f9bb0", BAD])
WHOLE = alt.Axis(format="d", tickMinStep=1)  # counts of things: no half runs on the axis
CELL_COLOURS = {"SUCCESS": GOOD, "fresh": GOOD, "up to date": GOOD, "passed": GOOD,
                "late": WARN, "warned": WARN, "upstream changed": WARN,
                "FAILURE": BAD, "stale": BAD, "failed": BAD, "never materialized": BAD}


@st.cache_data(ttl=15, show_spinner="Asking Dagster")
def dagster_record(url: str) -> dagster_api.DagsterRecord:
    return dagster_api.record(url)


def draw(chart: alt.Chart, height: int, where=st) -> None:
    """Streamlit sizes a chart's frame itself: it is given the chart's height and room for the axes and legend."""
    where.altair_chart(chart.properties(height=height), width="stretch", height=height + 60)


def readable(frame):
    """Column names as words: the frames keep their data names."""
    return frame.rename(columns=lambda name: name.replace("_", " "))


def coloured(frame, *columns):
    """A status column's cells tinted by what they say, so a failure stands out in a long table."""
    return frame.style.map(lambda v: f"color: {CELL_COLOURS[v]}; font-weight: 600" if v in CELL_COLOURS else "",
                           subset=list(columns))


st.title("Monitoring")
url = Settings.dagster_graphql_url()
try:
    dagster = dagster_record(url)
except dagster_api.DagsterUnavailable as exc:
    dagster = None
    st.warning(f"{md(exc)}. Start it with `make demo` (or `dagster dev`), or set DAGSTER_GRAPHQL_URL to its /graphql "
               "address; runs, assets and checks need it, the sections below do not.", icon=":material/cloud_off:")
answers = store_reports.chat_answers(store())

if dagster is not None:
    latest = dagster_api.latest_evaluations(dagster.checks)
    with_policy = dagster.assets[dagster.assets["policy"] != ""]
    cols = st.columns(4)
    cols[0].metric("Failed runs", int((dagster.runs["status"] == "FAILURE").sum()),
                   help=f"Of the latest {len(dagster.runs)} runs.")
    cols[1].metric("Checks failing now", int((latest["outcome"] == "failed").sum()),
                   help=f"{int((latest['outcome'] == 'warned').sum())} more warn; {len(latest)} checks in all.")
    cols[2].metric("Assets not fresh", int((with_policy["freshness"] != "fresh").sum()),
                   help=f"Of the {len(with_policy)} assets with a freshness policy (what listeners see).")
    cols[3].metric("Unanswered questions", int(answers["unanswered"].notna().sum()))

    st.header("Runs")
    runs = dagster.runs
    if runs.empty:
        st.caption("No runs yet: materialize the assets in the Dagster UI, or run `echotune materialize`.")
    else:
        draw(alt.Chart(runs).mark_circle(size=140, opacity=0.85).encode(
            x=alt.X("started:T", title="started (UTC)", axis=alt.Axis(tickCount=8)),
            y=alt.Y("job:N", title=None, axis=alt.Axis(labelLimit=charts.LABEL_LIMIT)),
            color=alt.Color("status:N", scale=RUN_COLOURS, title="status"),
            tooltip=["run_id", "job", "status", alt.Tooltip("started:T", format="%d %b %H:%M:%S"), "took",
                     "failed_steps"]), 40 + 30 * runs["job"].nunique())
        st.dataframe(coloured(runs.drop(columns="run_id"), "status"), hide_index=True, width="stretch", column_config={
            "link": st.column_config.LinkColumn("run", display_text=r".*/runs/(.{8}).*"),
            "started": st.column_config.DatetimeColumn("started (UTC)", format="D MMM YYYY HH:mm:ss"),
            "ended": st.column_config.DatetimeColumn("ended (UTC)", format="D MMM YYYY HH:mm:ss"),
            "failed_steps": "failed steps"}, column_order=["link", "job", "status", "started", "ended", "took",
                                                          "failed_steps"])

    st.header("Assets")
    st.caption("Each asset's last materialization. Freshness follows the asset's policy (Dagster's verdict once its "
               "daemon has evaluated it, the same windows applied here before); upstream says whether what it was "
               "built from has changed since.")
    assets = dagster.assets.drop(columns="run_id")
    st.dataframe(coloured(assets, "freshness", "upstream"), hide_index=True, width="stretch", column_config={
        "last_materialized": st.column_config.DatetimeColumn("last materialized (UTC)", format="D MMM YYYY HH:mm:ss")})

    st.header("Asset checks")
    if dagster.checks.empty:
        st.caption("No check has been evaluated yet.")
    else:
        per_run = dagster_api.outcomes_per_run(dagster.checks)
        draw(alt.Chart(per_run).mark_bar().encode(
            x=alt.X("run:N", sort=alt.EncodingSortField("at", op="min"), title="run (UTC)",
                    axis=alt.Axis(labelAngle=-30, labelLimit=charts.LABEL_LIMIT)),
            y=alt.Y("checks:Q", title="checks", axis=WHOLE),
            color=alt.Color("outcome:N", scale=CHECK_COLOURS, title="outcome"),
            tooltip=["run", "outcome", "checks"]), 220)
        st.dataframe(coloured(latest.drop(columns="run_id"), "outcome"), hide_index=True, width="stretch",
                     column_config={"at": st.column_config.DatetimeColumn("run started (UTC)",
                                                                          format="D MMM YYYY HH:mm:ss")})

alerts = store_reports.alerts(store())
if not alerts.empty:
    with st.expander(f"Failed-run alerts recorded by Dagster's run_failure_alert sensor ({len(alerts)})"):
        st.dataframe(alerts, hide_index=True, width="stretch")

st.header("Imports and quarantine")
warehouse = connection() is not None  # when there is none, says so once
if warehouse:
    history = ask(q.import_history)
    if history.empty:
        st.caption("Nothing imported yet.")
    else:
        base = alt.Chart(history).encode(x=alt.X("label:N", sort=alt.EncodingSortField("period", op="min"),
                                                 title=None, axis=alt.Axis(labelAngle=-30, labelLimit=240)))
        left, right = st.columns(2)
        draw(base.transform_fold(ROW_FATES, as_=["what became of it", "rows"]).mark_bar().encode(
            y=alt.Y("rows:Q", title="rows read"), color=alt.Color("what became of it:N", scale=ROW_COLOURS),
            tooltip=["label", "listeners", "what became of it:N", "rows:Q"]).properties(title="Rows read"), 220, left)
        draw(base.mark_line(point=True, color=BAD).encode(
            y=alt.Y("quarantine_share:Q", title="quarantined", axis=alt.Axis(format="%")),
            tooltip=["label", "listeners", "quarantined", "read", alt.Tooltip("quarantine_share:Q", format=".2%")]
        ).properties(title="Share quarantined"), 220, right)
        charts.with_table(None, history.drop(columns="label"), "import_history")

st.header("Spotify sync")
linked = spotify(explain=False)
if linked is None:
    st.caption("Spotify is not configured (SPOTIFY_CLIENT_ID is unset): no listener can connect, nothing is polled.")
else:
    app, connections = linked
    syncs = store_reports.spotify_syncs(connections.all(), connections.gaps(), app.poll_minutes)
    if syncs.empty:
        st.caption("No listener has connected Spotify yet.")
    else:
        st.caption(f"Recently played is polled every {app.poll_minutes} minutes; a gap is time a poll could not see "
                   "into (more than 50 plays since the one before), until an export fills it.")
        st.dataframe(readable(syncs), hide_index=True, width="stretch", column_config={
            name: st.column_config.DatetimeColumn(f"{name} (UTC)", format="D MMM YYYY HH:mm")
            for name in ("connected", "last poll", "sign in expires")})

st.header("Models")
runs_evaluated = ask(q.model_runs) if warehouse else None
if runs_evaluated is not None and not runs_evaluated.empty:
    count, evaluated_at = len(runs_evaluated), runs_evaluated.iloc[0]["evaluated_at"]
    st.caption(f"{count} evaluation run{'s' if count > 1 else ''}, the latest {evaluated_at:%d %b %Y %H:%M} UTC. Every "
               "model's metrics beside the popularity baseline, their trend over runs and the gate are on the Models "
               "page.")
st.page_link("app_pages/models.py", label="Model metrics over runs", icon=":material/model_training:")

st.header("Served recommendations")
if warehouse:
    outcomes = ask(q.served_outcomes, store_reports.feedback_events(store()))
    if outcomes.empty:
        st.caption("Nothing served yet: the recommendations asset records what each model version serves once the "
                   "gate lets a model through.")
    else:
        versions = outcomes[outcomes["listener"].isna()]
        st.caption("Of the items each model version served, how many the listener went on to play (30 s or more, "
                   "not skipped), skipped, liked or disliked while that version's list was theirs. Plays count once "
                   "their new listening is imported.")
        draw(alt.Chart(versions).transform_fold(OUTCOMES, as_=["outcome", "items"]).mark_bar().encode(
            x=alt.X("items:Q", title="served items", axis=WHOLE), y=alt.Y("version:N", title="model version"),
            yOffset=alt.YOffset("outcome:N", sort=OUTCOMES), color=alt.Color("outcome:N", scale=OUTCOME_COLOURS),
            tooltip=["version", "outcome:N", "items:Q", "items_served", "listeners", "listeners_listening"]
        ), 4 * 22 * len(versions))
        dates = {"first served": st.column_config.DatetimeColumn("first served (UTC)", format="D MMM YYYY HH:mm")}
        st.dataframe(readable(versions.drop(columns=["model_version", "listener"])), hide_index=True, width="stretch",
                     column_config=dates)
        with st.expander("Per listener"):
            st.dataframe(readable(outcomes[outcomes["listener"].notna()].drop(columns=["model_version", "listeners"])),
                         hide_index=True, width="stretch", column_config=dates)

st.header("Chat")
if answers.empty:
    st.caption("No chat answers yet.")
else:
    cols = st.columns(4)
    cols[0].metric("Answers", len(answers))
    cols[1].metric("Thumbs up", int((answers["rating"] == "up").sum()))
    cols[2].metric("Thumbs down", int((answers["rating"] == "down").sum()))
    cols[3].metric("Unanswered", int(answers["unanswered"].notna().sum()),
                   help="Messages the offline assistant did not understand, answered without some of their words, "
                        "or whose tools failed.")
    ratings = store_reports.ratings_by_day(answers)
    if not ratings.empty:
        days = ratings["label"].nunique()
        draw(alt.Chart(ratings).mark_bar(size=max(4, min(32, 600 // days))).encode(
            x=alt.X("label:N", sort=alt.EncodingSortField("day", op="min"), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("answers:Q", title="rated answers", axis=WHOLE),
            color=alt.Color("rating:N", scale=alt.Scale(domain=["up", "down"], range=[GOOD, BAD]), title="thumbs"),
            tooltip=[alt.Tooltip("label:N", title="day"), "rating", "answers"]), 180)
    unanswered = answers[answers["unanswered"].notna()]
    st.subheader("Unanswered questions")
    if unanswered.empty:
        st.caption("Every question so far was understood.")
    else:
        st.dataframe(unanswered[["at", "listener", "question", "unanswered", "answer", "rating"]], hide_index=True,
                     width="stretch", column_config={
                         "at": st.column_config.DatetimeColumn("asked (UTC)", format="D MMM YYYY HH:mm"),
                         "unanswered": "why"})
