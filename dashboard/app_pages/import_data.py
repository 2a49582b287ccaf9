"""Import: upload an export (the .zip or its JSON files), watch it load, see every row accounted for."""

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from echotune.settings import Settings
from ingestion.errors import ExportFileError
from ingestion.importer import check_listener, import_exports
from warehouse.connection import WarehouseBusy, write_connection
from warehouse.derived import build_all

st.title("Import a Spotify export")
st.write("Upload the .zip from Spotify's *Download your data*, or its JSON files. Importing the same files twice, "
         "or an export that overlaps an earlier one, never adds a play twice.")

listener = st.text_input("Whose listening is this?", key="import_listener", placeholder="e.g. alex")
uploads = st.file_uploader("Export files", type=["zip", "json", "csv"], accept_multiple_files=True, key="uploads")

if st.button("Import", type="primary", disabled=not (listener and uploads), key="import_button"):
    settings = Settings.from_env()
    progress = st.progress(0.0, text="Reading files")
    try:
        check_listener(listener)
        with tempfile.TemporaryDirectory(prefix="echotune-upload-") as folder:
            paths = []
            for upload in uploads:
                path = Path(folder) / Path(upload.name).name
                path.write_bytes(upload.getvalue())
                paths.append(path)
            with write_connection(settings.db_path, wait_seconds=60, memory_limit=settings.memory_limit) as con:
                report = import_exports(
                    con, [(listener, paths)],
                    lambda what, done, total: progress.progress(min(done / max(total, 1), 1.0), text=Path(what).name))
                progress.progress(1.0, text="Rebuilding tables")
                build_all(con, settings.session_gap_minutes)
    except ExportFileError as exc:
        progress.empty()
        st.error(f"**{Path(exc.path).name}** {exc.problem} {exc.hint}\n\nNothing was imported; your data is unchanged.")
    except (WarehouseBusy, ValueError) as exc:
        progress.empty()
        st.error(str(exc))
    else:
        progress.empty()
        totals = report.as_dict()
        st.success(f"Imported for {listener}: {totals['loaded']:,} new plays.")
        cols = st.columns(4)
        for column, key in zip(cols, ("read", "loaded", "duplicates", "quarantined"), strict=True):
            column.metric(key.capitalize(), f"{totals[key]:,}")
        st.dataframe(pd.DataFrame(totals["files"]).assign(name=lambda f: f["name"].map(lambda n: Path(n).name)),
                     hide_index=True, width="stretch")
        if totals["superseded"]:
            st.caption(f"{totals['superseded']:,} account-data plays fell on days your extended history covers and "
                       "were counted as duplicates (extended history wins).")
