"""Turning what a user hands us (files, folders, the .zip Spotify mails out) into a list of export files.

Zips are unpacked into a private scratch folder with the checks an archive from the internet deserves. The checks
hold for the whole import, not for each archive alone, so zips nested in zips cannot add up past them: a budget of
bytes unpacked, members and nesting depth, and a ratio of bytes unpacked to bytes handed in. No member may land
outside the scratch folder, be a link, share its name with another member or be encrypted; any of these refuses the
import before its member is written.

Every file keeps the name the user knows it by (`my_spotify_data.zip: Spotify Extended Streaming History/
Streaming_History_Audio_2020.json`), never the scratch path it was unpacked to.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ingestion.errors import ExportFileError
from ingestion.formats import FileKind, kind_of

# Spotify's JSON compresses about 10-15x; 100x with a large output is a zip bomb, not an export.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FLOOR_BYTES = 64 * 1024 * 1024
# The whole import, all archives and nested archives together.
MAX_UNPACKED_BYTES = 32 * 1024**3
MAX_MEMBERS = 20_000
MAX_ZIP_DEPTH = 3  # the mailed zip, zipped again by its owner, and once more: deeper is not an export
_COPY_CHUNK = 1024 * 1024
_SYMLINK = 0o120000


@dataclass(frozen=True)
class ExportFile:
    path: Path          # where the bytes are now (inside the scratch folder for zip members)
    name: str           # what the user recognises: the path they gave, or `archive.zip: member`
    kind: FileKind


@dataclass
class ExportSelection:
    scratch: Path                                       # this import's private folder, removed when it ends
    files: list[ExportFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # files in a folder or archive that are not listening data


@dataclass
class _Budget:
    """What unpacking may still spend across the whole import."""
    handed_in: int                 # bytes of the files and archives the user gave us
    unpacked: int = 0
    members: int = 0

    def admit(self, archive: str, members: list[zipfile.ZipInfo]) -> None:
        declared = sum(m.file_size for m in members)
        unpacked, count = self.unpacked + declared, self.members + len(members)
        if count > MAX_MEMBERS:
            raise ExportFileError(archive, f"holds {count:,} files with the archives it came with: more than the "
                                  f"{MAX_MEMBERS:,} one import accepts.", "Import the folders a few at a time.")
        if unpacked > MAX_UNPACKED_BYTES or (
            unpacked > RATIO_CHECK_FLOOR_BYTES and unpacked / max(1, self.handed_in) > MAX_COMPRESSION_RATIO
        ):
            raise ExportFileError(
                archive,
                f"would unpack to {unpacked / 1e6:,.0f} MB from {self.handed_in / 1e6:,.1f} MB handed in "
                f"({unpacked / max(1, self.handed_in):,.0f}x): far larger than any Spotify export, so it was not "
                "unpacked (a zip bomb?).",
                "Unpack it yourself and import the JSON files if you trust it.",
            )
        self.unpacked, self.members = unpacked, count

    def spend(self, archive: str, member: zipfile.ZipInfo, written: int) -> None:
        # Headers can lie about sizes: count what really comes out.
        if written > member.file_size or written > MAX_UNPACKED_BYTES:
            raise ExportFileError(archive, f"member '{member.filename}' unpacks to more than its header says.",
                                  "The archive is damaged or built to mislead: it was refused whole.")


@contextmanager
def collect_exports(paths: list[Path], scratch_root: Path | None = None,
                    display: dict[Path, str] | None = None) -> Iterator[ExportSelection]:
    """Every export file under `paths`, in a stable order. Zip members live until the block ends.

    `scratch_root` holds the unpacked members (the system's temporary folder if None); `display` names a path
    the way the user knows it (an upload's own file name rather than where it was saved)."""
    budget = _Budget(handed_in=sum(_size(p) for p in paths))
    if scratch_root is not None:
        scratch_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="echotune-unzip-", dir=scratch_root))
    selection = ExportSelection(scratch)
    try:
        for number, path in enumerate(paths):
            shown = (display or {}).get(path, str(path))
            _collect(path, selection, scratch / str(number), budget, explicit=True, shown=shown, depth=0)
        yield selection
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return path.stat().st_size if path.exists() else 0


def _collect(path: Path, selection: ExportSelection, scratch: Path, budget: _Budget, *, explicit: bool, shown: str,
             depth: int) -> None:
    if not path.exists():
        raise ExportFileError(shown, "does not exist.", "Check the path and try again.")
    if not path.is_dir() and not path.is_file():
        # a pipe or a device (/dev/zero) would be read forever
        raise ExportFileError(shown, "is not a regular file (a pipe, socket or device).",
                              "Point at the export's files, folder or .zip.")
    if path.is_dir():
        for child in _files_below(path, selection, shown):
            _collect(child, selection, scratch, budget, explicit=False, depth=depth,
                     shown=f"{shown}/{child.relative_to(path).as_posix()}")
        return
    if zipfile.is_zipfile(path):
        if depth >= MAX_ZIP_DEPTH:
            raise ExportFileError(shown, f"is a zip inside {depth} other zips: deeper than any export.",
                                  "Unpack the archives yourself and import the folder.")
        scratch.mkdir(parents=True, exist_ok=True)
        target = Path(tempfile.mkdtemp(prefix="zip-", dir=scratch))  # two archives never share a folder
        _unpack(path, target, shown, budget)
        # members are named after the archive and their place in it: `outer.zip: folder/file.json`
        for child in _files_below(target, selection, f"{shown}:"):
            _collect(child, selection, scratch / "nested", budget, explicit=False, depth=depth + 1,
                     shown=f"{shown}: {child.relative_to(target).as_posix()}")
        return
    kind = kind_of(path)
    if kind is None:
        if explicit:
            raise ExportFileError(
                shown,
                "is not a Spotify listening-data file EchoTune knows.",
                "Expected Streaming_History_*.json, endsong_N.json, StreamingHistory*.json, YourLibrary.json, "
                "Playlist*.json, a CSV with extended-history columns, or the .zip Spotify sent.",
            )
        selection.ignored.append(shown)
        return
    selection.files.append(ExportFile(path=path, name=shown, kind=kind))


def _files_below(folder: Path, selection: ExportSelection, shown: str) -> list[Path]:
    """Regular files below `folder`, sorted; links are not followed (one could point anywhere, or at itself)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            entry = Path(root) / name
            if entry.is_symlink():
                selection.ignored.append(f"{shown}/{entry.relative_to(folder).as_posix()} (a link, not followed)")
            elif name in files and not entry.is_file():
                selection.ignored.append(f"{shown}/{entry.relative_to(folder).as_posix()} (not a regular file)")
            elif name in files:
                found.append(entry)
    return sorted(found)


def _unpack(archive: Path, target: Path, shown: str, budget: _Budget) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            _check_members(shown, members)
            budget.admit(shown, members)
            target.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(target).free
            if sum(m.file_size for m in members) > free:
                raise ExportFileError(shown, f"needs {sum(m.file_size for m in members) / 1e6:,.0f} MB to unpack "
                                      f"and only {free / 1e6:,.0f} MB of disk is free.", "Free some disk space.")
            for member in members:
                # archives made on Windows may separate folders with backslashes
                destination = target / PurePosixPath(member.filename.replace("\\", "/"))
                try:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    _copy_capped(zf, member, destination, shown, budget)
                except OSError as exc:
                    raise ExportFileError(shown, f"member '{member.filename}' cannot be unpacked: "
                                          f"{exc.strerror or exc}.", "Unpack it yourself and import the folder.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise ExportFileError(shown, f"is a damaged zip archive ({exc}).", "Download the export again.") from None
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression; encryption caught earlier
        raise ExportFileError(shown, f"cannot be unpacked: {exc}.", "Unpack it yourself and import the folder.") from None


def _check_members(shown: str, members: list[zipfile.ZipInfo]) -> None:
    seen: set[str] = set()
    for member in members:
        name = member.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
            raise ExportFileError(
                shown,
                f"contains the member '{name}', which would be written outside the folder it is unpacked into.",
                "The archive was refused whole; a Spotify export never does this.",
            )
        if member.flag_bits & 0x1:
            raise ExportFileError(shown, f"is password-protected ('{name}' is encrypted).",
                                  "Unzip it yourself with its password, then import the folder.")
        if stat.S_IFMT(member.external_attr >> 16) == _SYMLINK:
            raise ExportFileError(shown, f"contains '{name}', a symbolic link: a Spotify export never does.",
                                  "The archive was refused whole; unpack it yourself if you trust it.")
        folded = pure.as_posix().casefold()
        if folded in seen:
            raise ExportFileError(shown, f"contains two members named '{name}': one would overwrite the other.",
                                  "Unpack it yourself, rename one of them, and import the folder.")
        seen.add(folded)
    folders = {parent.as_posix().casefold() for name in seen for parent in PurePosixPath(name).parents}
    if clash := sorted(seen & folders):
        raise ExportFileError(shown, f"contains '{clash[0]}' both as a file and as a folder.",
                              "The archive was refused whole; unpack it yourself if you trust it.")


def _copy_capped(zf: zipfile.ZipFile, member: zipfile.ZipInfo, destination: Path, shown: str, budget: _Budget) -> None:
    written = 0
    with zf.open(member) as source, open(destination, "wb") as sink:
        while chunk := source.read(_COPY_CHUNK):
            written += len(chunk)
            budget.spend(shown, member, written)
            sink.write(chunk)


def listener_batches(root: Path, refused: list[str] | None = None) -> list[tuple[str, list[Path]]]:
    """An exports folder as (listener, paths): each sub-folder or .zip is one listener, named after it; loose
    export files directly in `root` belong to a listener named after `root` itself. An entry whose name cannot be a
    listener's is left out, with the reason appended to `refused`, so the others still import."""
    from ingestion.importer import check_listener

    if not root.is_dir():
        return []
    batches: list[tuple[str, list[Path]]] = []
    loose: list[Path] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "_")) or entry.is_symlink():
            continue
        if entry.is_dir() or (entry.is_file() and zipfile.is_zipfile(entry)):
            batches.append((entry.stem if entry.is_file() else entry.name, [entry]))
        elif entry.is_file() and kind_of(entry) is not None:
            loose.append(entry)
    if loose:
        batches.append((root.resolve().name, loose))
    usable = []
    for listener, paths in batches:
        try:
            usable.append((check_listener(listener), paths))
        except ValueError as exc:
            if refused is not None:
                refused.append(f"{paths[0]}: {exc}")
    return usable
