"""Every command README.md shows, run as written after the two set-up commands.

The commands are the lines of its `bash` blocks, and its inline code that starts with a program a reader runs here
(`.venv/bin/…`, make, uv, python, docker, ssh, caddy, htpasswd, export) followed by arguments; `make demo` and
`make test` alone are the set-up itself. A command the README marks `<!-- not run by tests: REASON -->` right before it
is a skip here with that reason (it needs what this machine lacks: a Docker engine, a Spotify app, a server; or it
runs for minutes). Every other command must exit 0, so a new command that fails as written fails here.

Each runs in a fresh `bash` from the project's folder, with PATH=/usr/bin:/bin and nothing else of this process's
environment (as `env -i` gives): the set-up commands put nothing on PATH, which is why the README writes
`.venv/bin/echotune`. The only other variables are locations: HOME and ECHOTUNE_HOME point into a scratch folder, so
the warehouse, chat sessions and anything cached land there, never in the developer's data/ or home. DAGSTER_HOME
stays unset, as in a shell after `make demo` (the Makefile exports it to its own recipes only).

The scratch home starts as `make demo` leaves one on the shared data, cut to what the examples name: listener_07 (the
chat examples' listener) imported under its folder's name. The commands then run in README order on that one home,
as a reader types them: the chat follow-up continues the session the question before it started.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = ROOT / "README.md"
SHELL_BLOCKS = {"bash", "sh"}
SET_UP = {"make demo", "make test"}
INLINE_COMMAND = re.compile(r"(\.venv/bin/\S+|make|uv|python3?|docker|ssh|caddy|htpasswd|export)\s+\S")
# In the order they appear: a fenced block (indented inside a list item or not), a marker, an inline code span.
PIECES = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[^\n`]*)\n(?P<body>.*?)^[ \t]*```[ \t]*$"
                    r"|(?P<marker><!--\s*not run by tests:\s*(?P<reason>.*?)\s*-->)"
                    r"|`(?P<span>[^`]+)`", re.M | re.S)
# The demo's listener the chat examples name, imported as `make demo` imports every folder: named after it.
DEMO_LISTENER = "listener_07"


@dataclass(frozen=True)
class Command:
    text: str
    skip: str | None  # the README's reason for not running it here

    @property
    def name(self) -> str:
        """The command without its trailing comments, on one line: the test's id."""
        return " ".join(re.sub(r"\s+#\s.*$", "", line).rstrip("\\ ").strip() for line in self.text.splitlines())


def block_commands(body: str, indent: str) -> list[str]:
    """A shell block's commands: its lines, continuation lines joined, comment-only lines left out."""
    commands, current = [], ""
    for line in body.splitlines():
        line = line.removeprefix(indent)
        current += line
        if line.endswith("\\"):
            current += "\n"
            continue
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current)
        current = ""
    return commands


def readme_commands(text: str) -> tuple[list[Command], list[str]]:
    """Every command the README shows, with its marker's reason, and every marker or block this reading cannot
    place (a block without a language could hide a command; a marker must stand right before one)."""
    commands: list[Command] = []
    problems: list[str] = []
    reason: str | None = None
    for piece in PIECES.finditer(text):
        line = text.count("\n", 0, piece.start()) + 1
        if piece["marker"]:
            own_line = text[text.rfind("\n", 0, piece.start()) + 1:piece.start()].strip() == ""
            following = text[piece.end():].lstrip(" \t\n")
            if own_line and not following.startswith("```"):
                problems.append(f"line {line}: a marker at the start of a line ends its paragraph (Markdown then "
                                "shows the rest of that line as raw text); put words before it or a block after it")
            if reason is not None:
                problems.append(f"line {line}: two markers with no command between them")
            reason = piece["reason"]
        elif piece["body"] is not None:
            language = piece["lang"].strip()
            if not language:
                problems.append(f"line {line}: a fenced block without a language: `bash` if it holds commands")
            elif language in SHELL_BLOCKS:
                commands += [Command(c, reason) for c in block_commands(piece["body"], piece["indent"])]
                reason = None
            elif reason is not None:
                problems.append(f"line {line}: a marker before a {language} block, which holds no commands")
                reason = None
        else:
            span = " ".join(piece["span"].split())
            if INLINE_COMMAND.match(span) and span not in SET_UP:
                commands.append(Command(span, reason))
                reason = None
            elif reason is not None:
                problems.append(f"line {line}: a marker before `{span}`, which is not a command")
                reason = None
    if reason is not None:
        problems.append("a marker after the last command")
    return commands, problems


COMMANDS, PROBLEMS = readme_commands(README.read_text())


def run(command: str, scratch: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(scratch / "user"), "ECHOTUNE_HOME": str(scratch / "data")}
    return subprocess.run(["/bin/bash", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The scratch folder: HOME in user/, ECHOTUNE_HOME in data/ with the demo's listener imported. The examples name
    ../shared/data, so without it (`shared_data` skips) none of them can run."""
    scratch = tmp_path_factory.mktemp("readme")
    (scratch / "user").mkdir()
    demo = run(f".venv/bin/echotune import ../shared/data/spotify_exports/{DEMO_LISTENER} --listener {DEMO_LISTENER}",
               scratch)
    assert demo.returncode == 0, demo.stderr
    return scratch


def test_readme_marks_and_blocks_read_as_intended() -> None:
    assert not PROBLEMS, "\n".join(PROBLEMS)
    assert any(c.skip is None for c in COMMANDS), "no command of README.md is run here: is the reading broken?"


@pytest.mark.parametrize("command", [
    pytest.param(c, id=c.name, marks=[pytest.mark.skip(reason=f"not run by tests: {c.skip}")] if c.skip else [])
    for c in COMMANDS])
def test_readme_command_runs_as_written(command: Command, scratch: Path) -> None:
    before = {p.name for p in ROOT.iterdir()}
    try:
        result = run(command.text, scratch)
    finally:
        # a file the command was told to write into the project's folder (`--out recs.csv`) is this test's to remove
        for new in {p for p in ROOT.iterdir() if p.name not in before}:
            if new.is_file() and new.name in command.text:
                new.unlink()
    assert result.returncode == 0, (f"exit {result.returncode}\n--- stderr\n{result.stderr[-3000:]}"
                                    f"\n--- stdout\n{result.stdout[-2000:]}")
