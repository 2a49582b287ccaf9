"""A real EchoTune dashboard for browser tests and benchmarks: Streamlit serving a private copy of a home."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    url: str
    home: Path  # the private copy the app serves
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the app's process has used so far (Linux), to tell the server's share from the browsers'."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(served_home: Path, workdir: Path, env: dict[str, str] | None = None) -> Iterator[App]:
    """One Streamlit app on a private copy of `served_home`; `env` adds variables, "{url}" in them the app's URL."""
    from tests.conftest import fixture_env
    from warehouse.connection import write_connection

    home = workdir / "home"
    shutil.copytree(served_home, home, ignore=shutil.ignore_patterns("*.read.duckdb", "*.snapshots", "*.lock"))
    with write_connection(home / "wh.duckdb"):
        pass  # publishes this copy's own snapshot
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    extra = {k: v.replace("{url}", url) for k, v in (env or {}).items()}
    log = (workdir / "streamlit.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **fixture_env(home), **extra}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("streamlit did not start") from None
                time.sleep(0.5)
        yield App(url, home, server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
