"""The one error a user can cause by handing us a bad file: it names the file, the problem and what to do."""

from __future__ import annotations

from pathlib import Path


class ExportFileError(Exception):
    def __init__(self, path: Path | str, problem: str, hint: str = ""):
        self.path = str(path)
        self.problem = problem
        self.hint = hint
        super().__init__(f"{self.path}: {problem}" + (f" {hint}" if hint else ""))


class ImportIntegrityError(ExportFileError):
    """Two independent counts of one file's rows disagree: our fault, not the file's, so nothing is imported."""
