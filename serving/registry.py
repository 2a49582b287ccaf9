"""Where trained bundles live: a candidate written by training, and the served one listeners get.

Only the recommendations asset promotes a candidate, and only after the gate passed, so a model that fails the gate
can be inspected but never reaches listeners. Writes go to a temporary file and are renamed into place.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # unpickling imports it; the chat's stats path never loads a bundle
    from serving.bundle import ServingBundle

CANDIDATE, SERVED = "candidate.pkl", "served.pkl"


class ModelRegistry:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _write(self, bundle: ServingBundle, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{name}.{os.getpid()}"
        with tmp.open("wb") as handle:
            pickle.dump(bundle, handle, protocol=pickle.HIGHEST_PROTOCOL)
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
