"""Where trained bundles live: a candidate written by training, the served one listeners get, and the gate's last
verdict on the candidate.

Only the recommendations asset promotes a candidate, and only after the gate passed, so a model that fails the gate
can be inspected but never reaches listeners. The verdict (why, and what to do) is kept here for the pages and
commands that cannot ask Dagster. Writes go to a temporary file and are renamed into place.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # unpickling imports it; the chat's stats path never loads a bundle
    from serving.bundle import ServingBundle

CANDIDATE, SERVED, VERDICT = "candidate.pkl", "served.pkl", "gate.json"


class ModelRegistry:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _write(self, bundle: ServingBundle, name: str) -> Path:
        return self._replace(name, lambda handle: pickle.dump(bundle, handle, protocol=pickle.HIGHEST_PROTOCOL))

    def _replace(self, name: str, dump: Callable[[BinaryIO], object]) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.{os.getpid()}"
        with tmp.open("wb") as handle:
            dump(handle)
        os.replace(tmp, self.folder / name)
        return self.folder / name

    def save_candidate(self, bundle: ServingBundle) -> Path:
        return self._write(bundle, CANDIDATE)

    def load(self, name: str = SERVED) -> ServingBundle | None:
        path = self.folder / name
        if not path.exists():
            return None
        with path.open("rb") as handle:
            return pickle.load(handle)

    def promote(self) -> ServingBundle:
        bundle = self.load(CANDIDATE)
        if bundle is None:
            raise FileNotFoundError(f"no candidate model in {self.folder}: materialize served_model first")
        self._write(bundle, SERVED)
        return bundle

    def served_version(self) -> str | None:
        bundle = self.load(SERVED)
        return bundle.version if bundle else None

    def save_verdict(self, passed: bool, reason: str, advice: str) -> None:
        verdict = {"passed": passed, "reason": reason, "advice": advice}
        self._replace(VERDICT, lambda handle: handle.write(json.dumps(verdict).encode()))

    def verdict(self) -> dict | None:
        """The gate's last decision: passed, reason (one line) and advice (what to do), or None before any."""
        path = self.folder / VERDICT
        return json.loads(path.read_text()) if path.exists() else None
