"""`make demo`: real data when it is there (or sample data when it is not), every asset materialized, both UIs up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rich.console import Console

console = Console()
SHARED = Path("../shared/data")


def data_layout(data: Path | None, home: Path) -> dict[str, Path]:
    """Where exports and reference data are: the folder named, ../shared/data, or freshly generated samples."""
    if data is None:
        if (SHARED / "spotify_exports").is_dir():
            data = SHARED
        else:
            from echotune.sample_exports import write_sample_exports

            data = home / "sample"
            if not (data / "spotify_exports").is_dir():
                console.print(f"No ../shared/data here: writing sample exports to {data}")
                write_sample_exports(data)
    exports = data / "spotify_exports" if (data / "spotify_exports").is_dir() else data
    return {"ECHOTUNE_EXPORTS_DIR": exports, "ECHOTUNE_CATALOG_DIR": data / "catalog",
            "ECHOTUNE_LASTFM_DIR": data / "lastfm_hetrec2011"}


def materialize_everything() -> None:
    from dagster import DagsterInstance, materialize

    from orchestration.definitions import defs

    # Dagster's console log is kept off the terminal: it prints a stack trace for a gate that blocks, which is a
    # verdict, not a crash. The run is in the Dagster UI; real errors are printed below.
    with DagsterInstance.get() as instance, console.status("Materializing every asset (a minute or two)"):
        result = materialize([*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance,
                             raise_on_error=False,
                             run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
    gate = next((e for e in result.get_asset_check_evaluations() if e.check_name == "served_model_gate"), None)
    # A blocked gate fails its step by design (recommendations keep the last good model); anything else is an error.
    failed = [e for e in result.get_step_failure_events() if "served_model_gate" not in e.step_key]
    for event in failed:
        console.print(f"[red]{event.step_key} failed:[/] {event.step_failure_data.error.to_string()}", highlight=False)
    if failed:
        raise SystemExit(f"Materialization failed in {[e.step_key for e in failed]} (run {result.run_id}).")
    if gate is not None and not gate.passed:
        served = "listeners keep the model served before" if defs.resources["models"].registry().served_version() \
            else "nothing is served until a model passes, so For you and the chat cannot recommend yet"
        console.print(f"[yellow]The model gate blocked the new model: {gate.metadata['reason'].value}; {served}.[/] "
                      f"What to do: {gate.metadata['advice'].value}.", highlight=False)
    failed_checks = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed]
    console.print(f"[green]Materialized {len(defs.assets)} asset definitions.[/] "
                  + (f"[yellow]Checks not passing: {failed_checks}[/]" if failed_checks else "All checks passed."))


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode} before serving {url}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def serve(dagster_port: int, streamlit_port: int) -> None:
    bin_dir = Path(sys.executable).parent
    processes = [
        subprocess.Popen([str(bin_dir / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(dagster_port)]),
        subprocess.Popen([str(bin_dir / "streamlit"), "run", "dashboard/app.py", "--server.headless", "true",
                          "--server.port", str(streamlit_port), "--server.address", "127.0.0.1",
                          "--browser.gatherUsageStats", "false"],
                         env={**os.environ, "DAGSTER_GRAPHQL_URL": f"http://127.0.0.1:{dagster_port}/graphql"}),
    ]
    try:
        _wait_for(f"http://127.0.0.1:{dagster_port}/server_info", processes[0])
        _wait_for(f"http://127.0.0.1:{streamlit_port}/_stcore/health", processes[1])
        console.rule("EchoTune is running")
        console.print(f"Dagster UI:      http://127.0.0.1:{dagster_port}")
        console.print(f"Streamlit app:   http://127.0.0.1:{streamlit_port}")
        console.print("Drop new exports into data/landing/<listener>/ and the sensor imports them. Ctrl-C stops both.")
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        # dagster dev shuts its daemon and code server down cleanly on SIGINT, not on SIGTERM
        for p in processes:
            p.send_signal(signal.SIGINT)
        for p in processes:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


# Where Settings looks by default under $ECHOTUNE_HOME: the demo links its data there, so every later shell
# (`echotune materialize`, `echotune status`, the README's commands) reads what the demo read.
DEFAULT_FOLDERS = {"ECHOTUNE_EXPORTS_DIR": "exports", "ECHOTUNE_CATALOG_DIR": "catalog",
                   "ECHOTUNE_LASTFM_DIR": "lastfm_hetrec2011"}


def link_data(home: Path, layout: dict[str, Path]) -> None:
    """Link each default folder under `home` to the data chosen, unless the user keeps a real folder there."""
    for name, target in layout.items():
        link = home / DEFAULT_FOLDERS[name]
        if not target.exists():
            continue
        if link.is_symlink():
            link.unlink()
        if not link.exists():
            link.symlink_to(target.resolve(), target_is_directory=True)
            continue
        console.print(f"[yellow]{link} is a folder of yours, so later shells read it rather than {target}.[/]",
                      highlight=False)


def first_admin(home: Path) -> None:
    """An admin account on the first run, its password printed and kept in a file only its owner reads; later runs
    say where it is. The dashboard asks everyone to sign in once an account exists."""
    from serving.accounts import Accounts
    from serving.store import OperationalStore

    accounts = Accounts(OperationalStore.connect(os.environ.get("MONGODB_URI") or None, home))
    kept = home / "admin-password.txt"
    if not accounts.exist():
        password = accounts.add("admin", "admin")
        with os.fdopen(os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as file:
            file.write(password + "\n")
        console.print(f"Dashboard account created: [bold]admin[/], password [bold]{password}[/] (also in {kept}). "
                      "Add listeners on the Accounts page or with `.venv/bin/echotune accounts add NAME`.",
                      highlight=False)
    else:
        console.print(f"Dashboard accounts: {len(accounts.all())}; the first admin's password is in {kept} "
                      "(a new one: `.venv/bin/echotune accounts passwd admin`).", highlight=False)


def run_demo(data: Path | None, serve_uis: bool, dagster_port: int, streamlit_port: int) -> None:
    home = Path(os.environ.setdefault("ECHOTUNE_HOME", "data"))
    home.mkdir(parents=True, exist_ok=True)
    layout = data_layout(data, home)
    for name, path in layout.items():
        os.environ[name] = str(path.resolve()) if path.exists() else str(path)
        console.print(f"{name}={os.environ[name]}")
    link_data(home, layout)
    (home / "landing").mkdir(parents=True, exist_ok=True)
    if serve_uis:
        console.print(f"When every asset is materialized (a few minutes on the first run), the Dagster UI will be at "
                      f"http://127.0.0.1:{dagster_port} and the app at http://127.0.0.1:{streamlit_port}. Ctrl-C stops.")
    materialize_everything()
    first_admin(home)
    if serve_uis:
        serve(dagster_port, streamlit_port)
