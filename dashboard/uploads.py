"""Uploaded files, written to disk for the importer, each under the name its owner gave it.

Every upload gets a folder of its own: two exports both holding `StreamingHistory_music_0.json` are two files, not one
overwriting the other. Bytes are copied in chunks (never one more copy of a whole upload in memory), and the folder
is removed when the import ends; what a killed app left behind is removed the next time anyone imports.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.runtime.uploaded_file_manager import UploadedFile

STALE_SECONDS = 24 * 3600
_CHUNK = 4 * 1024 * 1024


@contextmanager
def saved_uploads(uploads: list[UploadedFile], home: Path) -> Iterator[tuple[list[Path], dict[Path, str]]]:
    """(paths on disk, how the user knows each one): a name given twice is told apart by its place in the list."""
    root = home / "uploads"
    _remove_stale(root)
    folder = root / uuid.uuid4().hex
    names = [Path(upload.name).name for upload in uploads]
    paths: list[Path] = []
    display: dict[Path, str] = {}
    try:
        for number, (upload, name) in enumerate(zip(uploads, names, strict=True)):
            path = folder / str(number) / name
            path.parent.mkdir(parents=True)
            upload.seek(0)
            with open(path, "wb") as sink:
                shutil.copyfileobj(upload, sink, _CHUNK)
            paths.append(path)
            display[path] = name if names.count(name) == 1 else f"{name} (upload {number + 1})"
        yield paths, display
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _remove_stale(root: Path) -> None:
    if not root.is_dir():
        return
    for entry in root.iterdir():
        if time.time() - entry.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(entry, ignore_errors=True)
