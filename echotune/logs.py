"""One log format for the CLI, the Dagster assets and the dashboard.

JSON lines when stderr is not a terminal (a service, cron, CI, `docker compose logs`), so a log collector can filter
by field; readable lines on a terminal. Every record names its component and carries the ids of the work it belongs
to (the Dagster run, the import) from a context variable, so a line deep inside an import needs no ids passed to it.
JSON comes from python-json-logger, which handles escaping, extra fields and exceptions.

Dagster shows the same records in its UI: the instance's `python_logs.managed_python_loggers` lists `echotune`.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

ROOT = "echotune"
IDS = ("run_id", "import_id")
_ids: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("echotune_log_ids", default={})


@contextmanager
def bound(**ids: str) -> Iterator[None]:
    """Every record logged inside carries these ids (run_id, import_id), in this thread or task."""
    token = _ids.set({**_ids.get(), **{k: v for k, v in ids.items() if v}})
    try:
        yield
    finally:
        _ids.reset(token)


class _Context(logging.Filter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def filter(self, record: logging.LogRecord) -> bool:
        record.component = self.component
        for name, value in _ids.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class _Readable(logging.Formatter):
    """A terminal's line: time, level, message, then the ids in brackets."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{name}={getattr(record, name)}" for name in IDS if hasattr(record, name))
        return super().format(record) + (f" [{ids}]" if ids else "")


def configure(component: str, stream: TextIO | None = None, level: int = logging.INFO) -> logging.Logger:
    """Set up the `echotune` loggers for this process (once; later calls change nothing) and return the root one."""
    root = logging.getLogger(ROOT)
    if any(isinstance(f, _Context) for h in root.handlers for f in h.filters):
        return root
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(_Context(component))
    if handler.stream.isatty():
        handler.setFormatter(_Readable("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    else:
        handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(component)s %(message)s", timestamp="time",
                                           rename_fields={"levelname": "level", "name": "logger"},
                                           json_ensure_ascii=False))
    root.addHandler(handler)
    root.setLevel(level)
    return root
