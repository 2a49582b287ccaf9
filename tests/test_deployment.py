"""The household deployment: docker-compose.yml checked by docker-compose itself, and its Dagster topology run
without containers (there is no Docker engine here): a real PostgreSQL, the code location's gRPC server,
dagster-daemon and dagster-webserver, started with the compose file's own commands and health checks on
deploy/dagster.yaml and deploy/workspace.yaml. A dropped export is imported by the landing sensor, the retraining
schedule fires, and the runs are read back from PostgreSQL and from the webserver's GraphQL API."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import FIXTURES, ROOT, build_fixture_warehouse, fixture_env, load_defs

COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
BIN = Path(sys.executable).parent
SERVICES = {"postgres", "mongodb", "code", "daemon", "webserver", "dashboard"}
# The container ports the compose file uses, and where the checkout sits inside the image.
CODE_PORT, WEB_PORT, APP_DIR = "4000", "3000", "/app/"
MAKE_INSTALLS = "`make test` installs it with apt-get when run as root"


def _outside_environment() -> dict[str, str]:
    """This shell's environment without EchoTune's, Dagster's or the deployment's own settings (the Makefile
    exports some): what the tests set is all the services see."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("ECHOTUNE_", "DAGSTER_", "POSTGRES_", "MONGO", "DASHBOARD_", "SPOTIFY_"))}


# --- the compose file ------------------------------------------------------------------------------------------------

def _compose_config(env_file: Path) -> subprocess.CompletedProcess:
    """The compose file interpolated and validated against the Compose schema, as `docker compose config` does;
    docker-compose needs no Docker daemon for that."""
    found = shutil.which("docker-compose")
    if not found:
        pytest.skip(f"docker-compose (Debian's package) is not installed: {MAKE_INSTALLS}")
    return subprocess.run([found, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE), "--env-file",
                           str(env_file), "config"], capture_output=True, text=True, env=_outside_environment(),
                          timeout=60)


def _published_on(service: dict) -> list[str]:
    """The host addresses a service's ports are published on, in either syntax docker-compose prints."""
    hosts = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            hosts.append(port.get("host_ip", "0.0.0.0"))
        else:
            parts = str(port).split(":")
            hosts.append(parts[0] if len(parts) == 3 else "0.0.0.0")
    return hosts


def _mounts(service: dict) -> dict[str, str]:
    """target: source of a service's volumes, in either syntax docker-compose may print."""
    mounts = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            mounts[volume["target"]] = str(volume.get("source"))
        else:
            source, target = str(volume).split(":")[:2]
            mounts[target] = source
    return mounts


def test_compose_file_is_valid_and_keeps_the_uis_off_the_public_interface() -> None:
    result = _compose_config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert not service.get("privileged"), name
        assert not any("docker.sock" in str(v) for v in service.get("volumes", [])), name
    # The Dagster UI has no login: it is never published beyond the loopback interface, nor the dashboard by default.
    assert _published_on(services["webserver"]) == ["127.0.0.1"]
    assert _published_on(services["dashboard"]) == ["127.0.0.1"]
    assert not any(_published_on(services[s]) for s in ("postgres", "mongodb", "code", "daemon"))

    code = services["code"]
    for variable in ("ECHOTUNE_DB", "ECHOTUNE_LANDING_DIR", "ECHOTUNE_MODELS_DIR"):
        path = code["environment"][variable]
        assert any(path == m or path.startswith(m + "/") for m in _mounts(code)), \
            f"{variable} is not on a volume: it would be lost with the container"
    # The dashboard writes too (imports, Spotify tokens): it must see the very same files as the code location.
    dashboard = services["dashboard"]
    assert {k: v for k, v in dashboard["environment"].items() if k.startswith(("ECHOTUNE_", "SPOTIFY_", "MONGODB"))} \
        == {k: v for k, v in code["environment"].items() if k.startswith(("ECHOTUNE_", "SPOTIFY_", "MONGODB"))}
    assert _mounts(dashboard).items() <= _mounts(code).items()
    assert _mounts(dashboard)["/data/secrets"] == "secrets"
    assert code["environment"]["MONGODB_URI"].startswith("mongodb://")
    for name in ("code", "daemon", "webserver"):
        assert services[name]["environment"]["DAGSTER_POSTGRES_HOST"] == "postgres"
    assert {"postgres", "mongodb", "warehouse", "models", "dagster-storage"} <= set(config["volumes"])


def test_compose_refuses_to_start_without_passwords(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = _compose_config(empty)
    assert result.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in result.stderr or "set MONGO_PASSWORD in .env" in result.stderr


def test_image_runs_as_an_unprivileged_user_on_the_locked_dependencies() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    assert next(line for line in lines if line.startswith("FROM ")).startswith("FROM python:3.11")
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0"), "the image's last USER must not be root"
    assert sum("uv sync --frozen" in line for line in lines) == 2  # dependencies, then the project
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", "data", ".dagster_home"} <= ignored


def test_retraining_time_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECHOTUNE_RETRAIN_CRON", raising=False)
    assert load_defs().resolve_schedule_def("refresh_models_schedule").cron_schedule == "0 4 * * *"
    monkeypatch.setenv("ECHOTUNE_RETRAIN_CRON", "30 2 * * *")
    assert load_defs().resolve_schedule_def("refresh_models_schedule").cron_schedule == "30 2 * * *"


# --- PostgreSQL --------------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_bin() -> Path:
    """Debian keeps the server's programs out of PATH, under /usr/lib/postgresql/<version>/bin."""
    candidates = [Path(p).resolve().parent for p in [shutil.which("initdb")] if p]
    candidates += sorted((Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
                         key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (folder / "postgres").exists():
            return folder
    pytest.skip(f"PostgreSQL's server (Debian's postgresql) is not installed: {MAKE_INSTALLS}")


def _connect(pg: dict[str, str], dbname: str | None = None):
    import psycopg2

    return psycopg2.connect(host=pg["DAGSTER_POSTGRES_HOST"], port=pg["DAGSTER_POSTGRES_PORT"],
                            user=pg["DAGSTER_POSTGRES_USER"], password=pg["DAGSTER_POSTGRES_PASSWORD"],
                            dbname=dbname or pg["DAGSTER_POSTGRES_DB"], connect_timeout=2)


def _query(pg: dict[str, str], sql: str) -> list[tuple]:
    con = _connect(pg)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


@contextlib.contextmanager
def _postgres() -> Iterator[dict[str, str]]:
    """A throw-away PostgreSQL cluster on a free loopback port, with password authentication as in the compose file;
    yields the DAGSTER_POSTGRES_* variables deploy/dagster.yaml reads.

    initdb refuses to run as root: as root, the cluster belongs to Debian's `postgres` user, in a folder it owns."""
    import psycopg2

    bindir = _postgres_bin()
    owner: dict = {}
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and there is no `postgres` user for PostgreSQL to run as")
        owner = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    base = Path(tempfile.mkdtemp(prefix="echotune-pg-"))
    pwfile = base / "pw"
    pg = {"DAGSTER_POSTGRES_HOST": "127.0.0.1", "DAGSTER_POSTGRES_PORT": str(_free_port()),
          "DAGSTER_POSTGRES_USER": "dagster", "DAGSTER_POSTGRES_PASSWORD": "household-test",
          "DAGSTER_POSTGRES_DB": "dagster"}
    pwfile.write_text(pg["DAGSTER_POSTGRES_PASSWORD"])
    if owner:
        for path in (base, pwfile):
            os.chown(path, owner["user"], owner["group"])
    server = None
    try:
        made = subprocess.run([str(bindir / "initdb"), "-D", str(base / "data"), "-U", "dagster",
                               f"--pwfile={pwfile}", "--auth=scram-sha-256", "--no-sync", "--no-locale", "-E", "UTF8"],
                              capture_output=True, text=True, timeout=120, **owner)
        assert made.returncode == 0, made.stderr
        server = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(base / "data"), "-p", pg["DAGSTER_POSTGRES_PORT"], "-k", str(base),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"],
            stdout=(base / "postgres.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True, **owner)
        deadline = time.monotonic() + 30
        while True:
            try:
                con = _connect(pg, "postgres")
                break
            except psycopg2.OperationalError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"PostgreSQL did not start:\n{(base / 'postgres.log').read_text()[-2000:]}")
                time.sleep(0.2)
        con.autocommit = True
        con.cursor().execute("CREATE DATABASE dagster")
        con.close()
        yield pg
    finally:
        if server is not None:
            _stop(server, signal.SIGINT)  # PostgreSQL's fast shutdown
        shutil.rmtree(base, ignore_errors=True)


# --- the Dagster services ----------------------------------------------------------------------------------------

def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stops a service and everything it started (a run worker is the code server's child, in its process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the group is left, even once the leader has exited
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _as_here(argv: list[str], ports: dict[str, str]) -> list[str]:
    """A compose command line as it runs outside a container: this checkout for /app, the project's virtual
    environment for the programs, loopback for 0.0.0.0, free ports for the container ports."""
    out = []
    for i, arg in enumerate(argv):
        if i == 0 and (BIN / arg).exists():
            arg = str(BIN / arg)
        elif arg.startswith(APP_DIR):
            arg = str(ROOT / arg[len(APP_DIR):])
        elif arg == "0.0.0.0":
            arg = "127.0.0.1"
        arg = ports.get(arg, arg)
        for container_port, port in ports.items():
            arg = arg.replace(f":{container_port}/", f":{port}/")
        out.append(arg)
    return out


def _graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"{url}/graphql", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"query": query, "variables": variables or {}}).encode())
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


def _wait(what: str, condition, timeout: float, processes: dict[str, subprocess.Popen], interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        dead = [name for name, p in processes.items() if p.poll() is not None]
        assert not dead, f"{dead} exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(interval)


def _finished_runs(pg: dict[str, str], tag: str, value: str) -> list[tuple[str, str]] | None:
    """(job, status) of the runs a sensor or schedule launched, once there are some and all have finished."""
    if _query(pg, "SELECT to_regclass('runs')")[0][0] is None:
        return None  # the daemon has not created Dagster's tables yet
    runs = _query(pg, f"""SELECT r.pipeline_name, r.status FROM runs r JOIN run_tags t ON t.run_id = r.run_id
                          WHERE t.key = '{tag}' AND t.value = '{value}'""")
    return runs if runs and all(status in ("SUCCESS", "FAILURE", "CANCELED") for _, status in runs) else None


def _turned_on_a_day_ago(dagster_home: Path, pg: dict[str, str], schedule: str) -> None:
    """Back-dates the schedule's start by a day in PostgreSQL: as if the operator had turned it on yesterday and the
    daemon had been down when it was last due (the household's server off at 4 am). The daemon's first pass launches
    that missed tick through Dagster's own catch-up, instead of the test waiting for the cron's next time."""
    from dagster import DagsterInstance
    from dagster._core.definitions.run_request import InstigatorType
    from dagster._core.scheduler.instigation import InstigatorStatus

    with pytest.MonkeyPatch.context() as patch:
        for key, value in pg.items():
            patch.setenv(key, value)
        with DagsterInstance.from_config(str(dagster_home)) as instance:
            state = next(s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
                         if s.name == schedule)
            assert state.status == InstigatorStatus.RUNNING
            data = state.instigator_data
            instance.update_instigator_state(state.with_data(data._replace(start_timestamp=time.time() - 86_400)))


SENSOR_ID = """query ($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) {
    __typename ... on Sensor { id } ... on PythonError { message } } }"""
STOP_SENSOR = """mutation ($id: String!) { stopSensor(id: $id) { __typename
    ... on StopSensorMutationResult { instigationState { status } } ... on PythonError { message } } }"""
START_SCHEDULE = """mutation ($selector: ScheduleSelector!) { startSchedule(scheduleSelector: $selector) {
    __typename ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""
RUNS_AND_DAEMONS = """{ runsOrError { ... on Runs { results { jobName status } } }
    instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"""


def test_daemon_and_webserver_on_postgres_import_a_dropped_export_and_fire_the_schedule(tmp_path: Path) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    started = time.monotonic()

    def note(what: str) -> None:  # each phase's time, printed with the services' logs when the test fails
        print(f"{time.monotonic() - started:5.1f} s  {what}")

    with _postgres() as pg:
        note("PostgreSQL up")
        dagster_home = tmp_path / "dagster_home"
        dagster_home.mkdir()
        (dagster_home / "dagster.yaml").symlink_to(ROOT / "deploy" / "dagster.yaml")  # the production file itself
        code_port, web_port = str(_free_port()), str(_free_port())
        ports = {CODE_PORT: code_port, WEB_PORT: web_port}
        url = f"http://127.0.0.1:{web_port}"
        env = {**_outside_environment(), **fixture_env(tmp_path / "home"), **pg, "DAGSTER_HOME": str(dagster_home),
               "DAGSTER_CODE_HOST": "127.0.0.1", "DAGSTER_CODE_PORT": code_port, "GX_ANALYTICS_ENABLED": "false",
               "ECHOTUNE_GATE_RATIO": "0"}  # the gate is not under test here (tests/test_recommend_flow.py is)
        processes: dict[str, subprocess.Popen] = {}

        def start(name: str) -> None:
            processes[name] = subprocess.Popen(
                _as_here(compose[name]["command"], ports), cwd=ROOT, env=env, start_new_session=True,
                stdout=(tmp_path / f"{name}.log").open("w"), stderr=subprocess.STDOUT)

        def health_checks(*names: str) -> dict[str, int]:
            """The compose file's own health checks, side by side: each service's exit code."""
            checks = {name: subprocess.Popen(_as_here(compose[name]["healthcheck"]["test"][1:], ports), cwd=ROOT,
                                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                      for name in names}
            return {name: check.wait(timeout=60) for name, check in checks.items()}

        def listening(port: str) -> bool:
            with socket.socket() as s:
                return s.connect_ex(("127.0.0.1", int(port))) == 0

        try:
            start("code")
            # A household that has been running a while: the warehouse holds the fixture listeners (built while the
            # code location loads); a new listener's export is then dropped into the landing folder.
            build_fixture_warehouse(Path(env["ECHOTUNE_DB"]))
            dropped = Path(env["ECHOTUNE_LANDING_DIR"]) / "new_listener"
            dropped.mkdir(parents=True)
            shutil.copy(FIXTURES / "exports/listener_e/StreamingHistory0.json", dropped)
            note("warehouse built, export dropped")
            # Each health check is a Python start of its own: poll the port first, then run it.
            _wait("the code location's port", lambda: listening(code_port), 60, processes, interval=0.2)
            _wait("the code location's health check", lambda: health_checks("code") == {"code": 0}, 30, processes)
            note("code location healthy")
            start("webserver")
            _wait("the webserver's health check", lambda: health_checks("webserver") == {"webserver": 0}, 60,
                  processes)

            # An operator's first steps in the UI, through its GraphQL API: turn the retraining schedule on and
            # (for this test only) stop the automation sensor, so the two runs under test are the only ones.
            repository = {"repositoryLocationName": "echotune", "repositoryName": "__repository__"}
            sensor = _graphql(url, SENSOR_ID, {"selector": {**repository, "sensorName": "refresh_downstream"}})
            stopped = _graphql(url, STOP_SENSOR, {"id": sensor["sensorOrError"]["id"]})["stopSensor"]
            assert stopped["instigationState"]["status"] == "STOPPED", stopped
            schedule = _graphql(url, START_SCHEDULE,
                                {"selector": {**repository, "scheduleName": "refresh_models_schedule"}})
            assert schedule["startSchedule"]["scheduleState"]["status"] == "RUNNING", schedule
            _turned_on_a_day_ago(dagster_home, pg, "refresh_models_schedule")
            note("webserver healthy, schedule on")

            start("daemon")
            landing = _wait("the landing sensor's run", lambda: _finished_runs(pg, "dagster/sensor_name",
                                                                               "landing_sensor"), 120, processes)
            note("landing sensor's run finished")
            scheduled = _wait("the schedule's run", lambda: _finished_runs(pg, "dagster/schedule_name",
                                                                          "refresh_models_schedule"), 120, processes)
            note("schedule's run finished")
            assert landing == [("import_exports", "SUCCESS")]
            assert scheduled == [("refresh_models", "SUCCESS")]
            assert _query(pg, "SELECT count(*) FROM runs")[0][0] == 2  # and nothing else was launched

            answer = _graphql(url, RUNS_AND_DAEMONS)
            assert sorted((r["jobName"], r["status"]) for r in answer["runsOrError"]["results"]) == [
                ("import_exports", "SUCCESS"), ("refresh_models", "SUCCESS")]
            daemons = {d["daemonType"]: d["healthy"] for d in answer["instance"]["daemonHealth"]["allDaemonStatuses"]
                       if d["required"]}
            assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= set(daemons) and all(daemons.values()), daemons
            assert health_checks("daemon", "code", "webserver") == {"daemon": 0, "code": 0, "webserver": 0}
            _assert_kept_in_postgres(pg)
        finally:
            for name in ("daemon", "webserver", "code"):
                if name in processes:
                    _stop(processes[name])
            for log in sorted(tmp_path.glob("*.log")):  # pytest shows them when the test failed
                print(f"--- {log.name}, last lines\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))

    import duckdb

    con = duckdb.connect(env["ECHOTUNE_DB"], read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM plays WHERE listener = 'new_listener'").fetchone()[0] == 30
    finally:
        con.close()
    note("done")


def _assert_kept_in_postgres(pg: dict[str, str]) -> None:
    """What the deployment keeps in PostgreSQL: the runs' materializations, the schedule's tick, the daemons'
    heartbeats."""
    materialized = {json.loads(key)[-1] for (key,) in _query(
        pg, "SELECT DISTINCT asset_key FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'")}
    assert {"plays", "user_item_matrix", "served_model", "recommendations"} <= materialized, materialized
    ticks = _query(pg, "SELECT status FROM job_ticks WHERE type = 'SCHEDULE' AND tick_body LIKE '%refresh_models%'")
    assert ticks == [("SUCCESS",)]
    heartbeats = {daemon for (daemon,) in _query(pg, "SELECT daemon_type FROM daemon_heartbeats")}
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR"} <= heartbeats
