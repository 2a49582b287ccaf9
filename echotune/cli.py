"""The `echotune` command: import exports, load reference data, make sample data, see what the warehouse holds."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from echotune import logs
from echotune.settings import Settings

if TYPE_CHECKING:
    from rich.progress import Progress

PROJECT = Path(__file__).resolve().parent.parent
app = typer.Typer(
    help="EchoTune: turn Spotify 'Download your data' exports into a validated DuckDB warehouse you can explore.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
    pretty_exceptions_enable=False,  # main() turns an unexpected error into one line and a log entry
)
err = Console(stderr=True, soft_wrap=True)
out = Console()

DbOption = Annotated[Path | None, typer.Option("--db", help="Warehouse file (default: $ECHOTUNE_DB or data/warehouse/echotune.duckdb).")]


def _db(db: Path | None) -> Path:
    return db or Settings.from_env().db_path


def _fail(message: str, code: int = 1) -> typer.Exit:
    # file, track and listener names may hold [brackets], which Rich would read as markup and drop
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Errors a user can cause, as a message on stderr and an exit code: 1 a bad file, 2 bad arguments, 3 busy."""
    from ingestion.errors import ExportFileError
    from warehouse.connection import WarehouseBusy

    try:
        yield
    except ExportFileError as exc:
        raise _fail(f"{exc.path}: {exc.problem}" + (f"\n       {exc.hint}" if exc.hint else "")
                    + "\n       Nothing was imported or loaded; the warehouse is unchanged.") from None
    except WarehouseBusy as exc:
        raise _fail(str(exc), 3) from None
    except ValueError as exc:
        raise _fail(str(exc), 2) from None


@app.command("import")
def import_command(
    paths: Annotated[list[Path], typer.Argument(help="Export files, folders, or the .zip Spotify sent.")],
    listener: Annotated[str, typer.Option("--listener", "-l", help="Whose listening this is.")],
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the accounting as one JSON object.")] = False,
) -> None:
    """Import exports for one listener. Re-importing or overlapping exports never adds a play twice.

    Every row read is accounted for: read = loaded + duplicates + quarantined, per file and in total.
    A bad file stops the import with its name and the problem, and the warehouse stays as it was.
    """
    from rich.table import Table

    from ingestion.importer import import_exports
    from orchestration.import_events import IMPORT_TABLES, import_materializations, row_counts
    from warehouse.connection import write_connection
    from warehouse.derived import build_all

    settings = Settings.from_env()
    with _user_errors():
        with _progress(enabled=not as_json) as progress:
            task = progress.add_task("importing", total=None)

            def advance(what: str, done: int, total: int) -> None:
                progress.update(task, description=Path(what).name[:40], completed=done, total=total)

            def rebuild(con, _report) -> None:
                progress.update(task, description="rebuilding tables")
                build_all(con, settings.session_gap_minutes)

            with write_connection(_db(db), memory_limit=settings.memory_limit) as con:
                report = import_exports(con, [(listener, paths)], advance, then=rebuild)
                rows = row_counts(con, IMPORT_TABLES)
    _tell_dagster(import_materializations(report, listener, "echotune import", rows),
                  f"import {report.import_id} for {listener} (echotune import)")

    if as_json:
        sys.stdout.write(json.dumps(report.as_dict()) + "\n")
        return
    table = Table(title=f"Import {report.import_id} for {listener}", show_footer=True)
    table.add_column("file", footer="total", overflow="fold")
    for column in ("read", "loaded", "duplicates", "quarantined"):
        table.add_column(column, justify="right", footer=f"{report.total(column):,}")
    for f in report.files:
        table.add_row(escape(f.name) + (f" [dim]({escape(f.note)})[/]" if f.note else ""), *(f"{getattr(f, c):,}" for c in
                      ("read", "loaded", "duplicates", "quarantined")))
    out.print(table)
    if report.superseded or report.replaced:
        out.print(f"Extended history wins: {report.superseded:,} account-data plays on days it covers were counted as "
                  f"duplicates; {report.replaced:,} stored ones were replaced.")
    if report.ignored:
        out.print(f"[dim]Not listening data, skipped: {len(report.ignored)} files[/]")


@app.command("load-catalog")
def load_catalog_command(
    folder: Annotated[Path | None, typer.Argument(help="Folder of catalog CSVs (default: $ECHOTUNE_CATALOG_DIR).")] = None,
    db: DbOption = None,
) -> None:
    """Load track catalogs with audio features, genres and popularity, then re-enrich the tracks."""
    from orchestration.import_events import CATALOG_TABLES, row_counts
    from warehouse.catalog import load_catalog
    from warehouse.connection import write_connection
    from warehouse.derived import build_all

    settings = Settings.from_env()
    with _user_errors(), write_connection(_db(db)) as con:
        counts = load_catalog(con, folder or settings.catalog_dir)
        enrichment = build_all(con, settings.session_gap_minutes)["tracks"]
        rows = row_counts(con, CATALOG_TABLES)
    _tell_dagster(rows, "catalog loaded with echotune load-catalog")
    out.print(f"{counts['catalog_tracks']:,} catalog tracks, {counts['catalog_artists']:,} artists; "
              f"{enrichment['play_coverage']:.1%} of music plays enriched.")


@app.command("load-lastfm")
def load_lastfm_command(
    folder: Annotated[Path | None, typer.Argument(help="HetRec 2011 Last.fm folder (default: $ECHOTUNE_LASTFM_DIR).")] = None,
    db: DbOption = None,
) -> None:
    """Load the HetRec 2011 Last.fm users x artists set used to benchmark recommenders."""
    from orchestration.import_events import LASTFM_TABLES, row_counts
    from warehouse.connection import write_connection
    from warehouse.lastfm import load_lastfm

    with _user_errors(), write_connection(_db(db)) as con:
        counts = load_lastfm(con, folder or Settings.from_env().lastfm_dir)
        rows = row_counts(con, LASTFM_TABLES)
    _tell_dagster(rows, "HetRec Last.fm set loaded with echotune load-lastfm")
    out.print(json.dumps(counts, indent=2))


@app.command("sample-data")
def sample_data_command(
    out_dir: Annotated[Path, typer.Argument(help="Where to write spotify_exports/ and catalog/.")],
    listeners: int = 60,
    plays: Annotated[int | None, typer.Option(help="Plays per listener. Default: as unequal as real listeners.")] = None,
    seed: int = 7,
) -> None:
    """Write realistic sample exports in Spotify's formats (for a demo without real data)."""
    from echotune.sample_exports import write_sample_exports

    out.print(write_sample_exports(out_dir, listeners, plays, seed))


@app.command("demo")
def demo_command(
    data: Annotated[Path | None, typer.Option(help="A data folder (spotify_exports/, catalog/, ...) or an exports folder. "
                                                   "Default: ../shared/data when present, else generated samples.")] = None,
    serve: Annotated[bool, typer.Option(help="Start the Dagster UI and the Streamlit app afterwards.")] = True,
    dagster_port: int = 3000,
    streamlit_port: int = 8501,
) -> None:
    """Import the data, materialize every asset, then start the Dagster UI and the Streamlit app."""
    from echotune.demo import run_demo

    run_demo(data, serve, dagster_port, streamlit_port)


@app.command("materialize")
def materialize_command(
    select: Annotated[str | None, typer.Option("--select", help="Dagster's asset selection syntax, e.g. "
                                               "'group:warehouse', 'key:served_model+' or 'key:plays or key:tracks'. "
                                               "Default: every asset.")] = None,
) -> None:
    """Materialize the asset graph (or a selection of it) with its checks, without any UI: for cron, CI and first
    set-up. Runs on the Dagster instance at $DAGSTER_HOME, so the Dagster UI shows the run.

    Exits 1 naming each failed asset and check; a check that only warns is listed and does not fail the run.
    """
    from dagster import DagsterError

    from orchestration.definitions import defs
    from orchestration.headless import instance_in_use, run_selection

    instance, where = instance_in_use()
    err.print(f"[dim]materializing {escape(select or 'every asset')} on {escape(where)}[/]", highlight=False)
    with instance, _progress(enabled=True, counts=True) as progress:
        task = progress.add_task("starting", total=None)
        failed: list[str] = []

        def finished(step: str, how: str) -> None:
            if how == "failed":
                failed.append(step)
            progress.update(task, advance=1, description=f"{step[:40]} {how}" + (f" · {len(failed)} failed" if failed else ""))
            err.print(f"{'[red]✗' if how == 'failed' else '[green]✓' if how == 'done' else '[dim]–'}[/] {escape(step)}",
                      highlight=False)

        try:
            run = run_selection(defs, select, instance, lambda steps: progress.update(task, total=steps), finished)
        except DagsterError as exc:
            raise _fail(f"--select {select!r}: {exc}", 2) from None
    for check in run.warnings:
        err.print(f"[yellow]warning:[/] check {escape(check)} did not pass (it warns only)", highlight=False)
    if not run.success:
        raise _fail(f"run {run.run_id}: "
                    + "; ".join([f"failed step {s}" for s in run.failed_steps] + [f"failed check {c}" for c in run.failed_checks]))
    out.print(f"Materialized {run.steps} steps (run {run.run_id}).")


@app.command("recommend-batch")
def recommend_batch_command(
    interactions: Annotated[Path, typer.Option("--interactions", help="TSV, CSV or Parquet file of interactions.")],
    user_col: Annotated[str, typer.Option("--user-col")],
    item_col: Annotated[str, typer.Option("--item-col")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write user,item,rank (CSV).")],
    weight_col: Annotated[str | None, typer.Option("--weight-col", help="Play counts; each row counts once without it.")] = None,
    k: Annotated[int, typer.Option("--k", min=1, help="Recommendations per user.")] = 20,
    tune: Annotated[bool, typer.Option("--tune", help="Tune on a validation split of this file first (slower).")] = False,
) -> None:
    """Train the served method (the tuned hybrid of EASE, ALS and RP3beta) and write top-k for every user.

    Items a user already has are never recommended to them; rank 1 is the best.
    """
    from models.batch import read_interactions, recommend_batch

    with _user_errors():
        data = read_interactions(interactions, user_col, item_col, weight_col)
        with _progress(enabled=True, counts=True) as progress:
            task = progress.add_task("reading", total=None)
            report = recommend_batch(data, out_path, k, tune,
                                     lambda what, done, total: progress.update(task, description=what,
                                                                               completed=done, total=total))
    out.print(f"wrote {report['rows']:,} recommendations for {report['users']:,} users "
              f"({report['items']:,} items) to {out_path}")


@app.command("chat")
def chat_command(
    listener: Annotated[str, typer.Option("--listener", "-l", help="Whose data the assistant answers about.")],
    message: Annotated[str, typer.Option("--message", "-m", help="What to ask.")],
    db: DbOption = None,
    session: Annotated[str | None, typer.Option("--session", help="Continue this chat session: an id printed after an "
                                                "answer, or 'last' for this listener's latest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer, the tool calls with arguments and the rows used.")] = False,
    offline: Annotated[bool, typer.Option("--offline", help="Use the built-in assistant even when ECHOTUNE_LLM_MODELS is set.")] = False,
) -> None:
    """Ask the assistant about your listening, for recommendations, or to edit playlists.

    The built-in offline assistant answers by default; set ECHOTUNE_LLM_MODELS (litellm model names) to use an LLM,
    with the offline assistant as the last fallback.
    """
    from assistant.engine import Assistant
    from assistant.llm import Provider
    from assistant.sessions import SessionNotFound
    from serving.registry import ModelRegistry
    from serving.store import OperationalStore
    from warehouse.connection import WarehouseMissing

    settings = Settings.from_env()
    try:
        bot = Assistant(listener, _db(db), OperationalStore.connect(settings.mongodb_uri, settings.home),
                        lambda: ModelRegistry(settings.models_dir).load(),
                        [] if offline else Provider.parse_chain(settings.llm_models), settings.llm_timeout)
        if session == "last":  # a follow-up from the shell, without copying an id (ids are hex, never 'last')
            latest = bot.sessions.list(listener)
            if not latest:
                raise _fail(f"no chat session of {listener} to continue: ask without --session first", 2)
            session = latest[0]["session_id"]
        answer = bot.reply(message, session).collect()
    except WarehouseMissing as exc:
        raise _fail(str(exc)) from None
    except (SessionNotFound, ValueError) as exc:
        raise _fail(str(exc), 2) from None
    if as_json:
        sys.stdout.write(json.dumps(answer.as_dict(), default=str, ensure_ascii=False) + "\n")
        return
    out.print(answer.text, highlight=False, markup=False)
    for used in answer.tool_calls:
        arguments = ", ".join(f"{k}={v!r}" for k, v in used.arguments.items())
        outcome = f"error: {used.error}" if used.error else f"{used.row_count} rows · {used.freshness}"
        err.print(f"[dim]used {used.name}({escape(arguments)}) → {escape(outcome)}[/]", highlight=False)
    for note in answer.notes:
        err.print(f"[yellow]{escape(note)}[/]", highlight=False)
    err.print(f"[dim]session {answer.session_id} ({answer.provider}); continue with --session {answer.session_id}[/]",
              highlight=False)


@app.command("status")
def status_command(db: DbOption = None) -> None:
    """What the warehouse holds: rows per table and the latest imports."""
    from rich.table import Table

    from warehouse.connection import WarehouseMissing, read_connection

    try:
        con = read_connection(_db(db))
    except WarehouseMissing as exc:
        raise _fail(str(exc)) from None
    table = Table("table", "rows", title="Tables")
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall():
        table.add_row(name, f"{con.execute(f'SELECT count(*) FROM {name}').fetchone()[0]:,}")
    out.print(table)
    columns = ["import_id", "imported_at", "listeners", "files", "read", "loaded", "duplicates", "quarantined"]
    imports = Table(*columns, title="Latest imports")
    for row in con.execute(f"SELECT {', '.join(columns)} FROM imports ORDER BY imported_at DESC LIMIT 10").fetchall():
        imports.add_row(*(f"{v:,}" if isinstance(v, int) else escape(str(v)) for v in row))
    out.print(imports)


def _tell_dagster(materializations: dict[str, dict], description: str) -> None:
    """What a command wrote, as runless materializations on $DAGSTER_HOME's instance: never fails the command."""
    from orchestration.import_events import report_to_dagster

    if problem := report_to_dagster(materializations, description):
        err.print(f"[yellow]{escape(problem)}[/]", highlight=False)


def _progress(enabled: bool, counts: bool = False) -> Progress:
    # imported here, as every command's own imports are: `echotune chat` should not pay for what it never draws
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    done = MofNCompleteColumn() if counts else DownloadColumn()
    return Progress(TextColumn("{task.description}"), BarColumn(), done, TimeRemainingColumn(),
                    console=err, disable=not enabled, transient=True)


def _add_command_groups() -> None:
    from echotune.accounts_cli import accounts_app
    from echotune.spotify_cli import spotify_app

    app.add_typer(accounts_app, name="accounts")
    app.add_typer(spotify_app, name="spotify")


_add_command_groups()


def main() -> None:
    """The `echotune` command. No traceback ever reaches the user: an error nobody foresaw is said in one line, with
    the traceback kept in a log file for the report."""
    import traceback

    # A shell after `make demo` has no DAGSTER_HOME (the Makefile sets it for its own commands only): the project's
    # instance is the one the demo's Dagster UI shows, so imports and runs from here land there too.
    if "DAGSTER_HOME" not in os.environ and (PROJECT / ".dagster_home" / "dagster.yaml").is_file():
        os.environ["DAGSTER_HOME"] = str(PROJECT / ".dagster_home")
    # On a terminal the progress bars and tables tell the story; elsewhere (cron, CI, a service) every record, as JSON.
    logs.configure("cli", level=logging.WARNING if sys.stderr.isatty() else logging.INFO)
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted: anything half-done was rolled back.")
        sys.exit(130)
    except Exception as exc:
        log = Settings.from_env().home / "logs" / "echotune-cli.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            # a logger outside `echotune`, whose handler would show the traceback on the user's terminal
            crash = logging.getLogger("echotune-crash")
            crash.addHandler(logging.FileHandler(log))
            crash.error("%s %s\n%s", datetime.now().isoformat(timespec="seconds"), " ".join(sys.argv),
                        traceback.format_exc())
            where = f"the details are in {log}"
        except OSError:
            where = "the details could not be logged"
        err.print(f"[bold red]error:[/] EchoTune failed unexpectedly ({type(exc).__name__}: {escape(str(exc))}). An import or load "
                  f"that was under way was rolled back; {where}. Please report it.", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
