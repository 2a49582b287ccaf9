"""Turning what a user hands us (files, folders, the .zip Spotify mails out) into a list of export files.

Zips are unpacked into a private temporary folder with the checks an archive from the internet deserves: no member may
land outside that folder, and an archive that unpacks to far more than it weighs is refused before anything is written.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ingestion.errors import ExportFileError
from ingestion.formats import FileKind, kind_of

# Spotify's JSON compresses about 10-15x; 100x with a large output is a zip bomb, not an export.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FLOOR_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 32 * 1024**3
_COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExportFile:
    path: Path          # where the bytes are now (inside a temporary folder for zip members)
    name: str           # what the user recognises: the path they gave, or archive.zip!/member
    kind: FileKind


@dataclass
class ExportSelection:
    files: list[ExportFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files in a folder or archive that are not listening data


@contextmanager
def collect_exports(paths: list[Path]) -> Iterator[ExportSelection]:
    """Every export file under `paths`, in a stable order. Zip members live until the block ends."""
    selection = ExportSelection()
    with tempfile.TemporaryDirectory(prefix="echotune-unzip-") as scratch:
        for number, path in enumerate(paths):
            _collect(path, selection, Path(scratch) / str(number), explicit=True)
        yield selection


def _collect(path: Path, selection: ExportSelection, scratch: Path, *, explicit: bool, shown: str | None = None) -> None:
    shown = shown or str(path)
    if not path.exists():
        raise ExportFileError(path, "does not exist.", "Check the path and try again.")
    if path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            _collect(child, selection, scratch, explicit=False, shown=f"{shown}/{child.relative_to(path)}")
        return
    if zipfile.is_zipfile(path):
        scratch.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix=f"{path.stem}-", dir=scratch))  # two archives never share a folder
        _unpack(path, target)
        _collect(target, selection, scratch / "nested", explicit=False, shown=f"{shown}!")
        return
    kind = kind_of(path)
    if kind is None:
        if explicit:
            raise ExportFileError(
                path,
                "is not a Spotify listening-data file EchoTune knows.",
                "Expected Streaming_History_*.json, endsong_N.json, StreamingHistory*.json, YourLibrary.json, "
                "Playlist*.json, a CSV with extended-history columns, or the .zip Spotify sent.",
            )
        selection.ignored.append(shown)
        return
    selection.files.append(ExportFile(path=path, name=shown, kind=kind))


def _unpack(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        for member in members:
            _check_member_name(archive, member.filename)
        unpacked = sum(m.file_size for m in members)
        packed = max(1, sum(m.compress_size for m in members))
        if unpacked > MAX_UNPACKED_BYTES or (
            unpacked > RATIO_CHECK_FLOOR_BYTES and unpacked / packed > MAX_COMPRESSION_RATIO
        ):
            raise ExportFileError(
                archive,
                f"unpacks to {unpacked / 1e6:,.0f} MB from {packed / 1e6:,.1f} MB ({unpacked / packed:,.0f}x): "
                "far larger than any Spotify export, so it was not unpacked (a zip bomb?).",
                "Unpack it yourself and import the JSON files if you trust it.",
            )
        target.mkdir(parents=True, exist_ok=True)
        for member in members:
            destination = target / member.filename
            destination.parent.mkdir(parents=True, exist_ok=True)
            _copy_capped(zf, member, destination, archive)


def _check_member_name(archive: Path, name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise ExportFileError(
            archive,
            f"contains the member '{name}', which would be written outside the folder it is unpacked into.",
            "The archive was refused whole; a Spotify export never does this.",
        )


def _copy_capped(zf: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path, archive: Path) -> None:
    # Headers can lie about sizes: count what really comes out.
    written = 0
    with zf.open(member) as source, open(destination, "wb") as sink:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            if written > member.file_size or written > MAX_UNPACKED_BYTES:
                raise ExportFileError(archive, f"member '{member.filename}' unpacks to more than its header says.")
            sink.write(chunk)


def listener_batches(root: Path) -> list[tuple[str, list[Path]]]:
    """An exports folder as (listener, paths): each sub-folder or .zip is one listener, named after it; loose
    export files directly in `root` belong to a listener named after `root` itself."""
    if not root.is_dir():
        return []
    batches: list[tuple[str, list[Path]]] = []
    loose: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() or zipfile.is_zipfile(entry):
            batches.append((entry.stem if entry.is_file() else entry.name, [entry]))
        elif kind_of(entry) is not None:
            loose.append(entry)
    if loose:
        batches.append((root.resolve().name, loose))
    return batches
