"""Import: upload an export (the .zip or its JSON files), watch it load, see every row accounted for."""

import pandas as pd
import streamlit as st

from dashboard import access
from dashboard.served import md
from dashboard.uploads import saved_uploads
from echotune.settings import Settings
from ingestion.errors import ExportFileError
from ingestion.importer import check_listener, import_exports
from orchestration.import_events import IMPORT_TABLES, import_materializations, report_to_dagster, row_counts
from warehouse.connection import WarehouseBusy, write_connection
from warehouse.derived import build_all

st.title("Import a Spotify export")
st.write("Upload the .zip from Spotify's *Download your data*, or its JSON files. Importing the same files twice, "
         "or an export that overlaps an earlier one, never adds a play twice.")
st.caption("Uploads up to 1 GB each. For a larger export, drop its folder into the landing folder or use "
           "`echotune import`.")

# A new key after each import empties the uploader, so Streamlit lets go of the uploaded bytes it holds in memory.
round_ = st.session_state.setdefault("upload_round", 0)
if (account := access.current()).is_admin:  # an admin imports for anyone; everyone else imports their own listening
    listener = st.text_input("Whose listening is this?", key="import_listener", placeholder="e.g. alex")
else:
    listener = account.listener
    st.write(f"Importing as **{md(listener)}**.")
uploads = st.file_uploader("Export files", type=["zip", "json", "csv"], accept_multiple_files=True,
                           key=f"uploads_{round_}")

if st.button("Import", type="primary", disabled=not (listener and uploads), key="import_button"):
    settings = Settings.from_env()
    progress = st.progress(0.0, text="Reading files")
    outcome: dict = {"listener": listener}
    try:
        check_listener(listener)
        with saved_uploads(uploads, settings.home) as (paths, names), \
                write_connection(settings.db_path, wait_seconds=60, memory_limit=settings.memory_limit) as con:
            def rebuild(con, _report) -> None:
                progress.progress(1.0, text="Rebuilding tables")
                build_all(con, settings.session_gap_minutes)

            report = import_exports(
                con, [(listener, paths)],
                lambda what, done, total: progress.progress(min(done / max(total, 1), 1.0), text=what[-80:]),
                display=names, then=rebuild)
            rows = row_counts(con, IMPORT_TABLES)
        outcome["report"] = report.as_dict()
        outcome["dagster_problem"] = report_to_dagster(
            import_materializations(report, listener, "Import page", rows),
            f"import {report.import_id} for {listener} (Import page)")
    except ExportFileError as exc:
        # file names and problems quote the user's data: shown as text, never as markdown
        outcome["error"] = (f"**{md(exc.path)}** {md(exc.problem)} {md(exc.hint)}\n\nNothing was imported; your "
                            "data is unchanged.")
    except (WarehouseBusy, ValueError) as exc:
        outcome["error"] = md(exc)
    progress.empty()
    st.session_state["import_outcome"] = outcome
    st.session_state["upload_round"] = round_ + 1
    st.rerun()

outcome = st.session_state.get("import_outcome")
if outcome and "error" in outcome:
    st.error(outcome["error"])
elif outcome:
    totals = outcome["report"]
    st.success(f"Imported for {md(outcome['listener'])}: {totals['loaded']:,} new plays.")
    cols = st.columns(4)
    for column, key in zip(cols, ("read", "loaded", "duplicates", "quarantined"), strict=True):
        column.metric(key.capitalize(), f"{totals[key]:,}")
    st.dataframe(pd.DataFrame(totals["files"]), hide_index=True, width="stretch")
    if outcome.get("dagster_problem"):
        st.warning(md(outcome["dagster_problem"]))
    elif totals["loaded"]:
        st.caption("Recommendations for these plays come with the next training run: Dagster starts it on its own "
                   "while its daemon runs, or run `echotune materialize`.")
    if totals["superseded"]:
        st.caption(f"{totals['superseded']:,} account-data plays fell on days your extended history covers and "
                   "were counted as duplicates (extended history wins).")
