"""The assistant's tools: one registry both assistants call, the offline parser and any LLM through litellm.

A tool is a function of a `ToolContext` (whose listener is fixed by the session: no tool takes a listener, so no
message can reach another listener's data) and JSON arguments checked against its schema before it runs. It returns a
`ToolResult`: the facts in a sentence (the offline answer, the model's digest), the rows and the query behind them,
and what the data could not cover. Calls are recorded as `ToolCall`s, which is what every answer shows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any

from assistant.scope import ListenerScope
from serving.playlists import Playlists
from serving.store import OperationalStore

if TYPE_CHECKING:  # numpy, pandas and scipy come with it: only recommendation tools load a bundle
    from serving.bundle import ServingBundle

SHOWN_ROWS = 25  # rows kept with a recorded call; the full result stays in the tool's summary


class ToolError(ValueError):
    """A call that cannot be answered as asked; the message tells the user (or the model) what to do instead."""


@dataclass
class ToolResult:
    summary: str
    rows: list[dict] = field(default_factory=list)
    query: str | None = None
    coverage: str = ""
    items: list[dict] | None = None  # what "the second one" refers to in the next turns
    playlist_id: str | None = None
    export: dict | None = None       # {"format", "filename", "content"} of an exported playlist


@dataclass
class ToolCall:
    name: str
    arguments: dict
    summary: str = ""
    query: str | None = None
    rows: list[dict] = field(default_factory=list)
    row_count: int = 0
    coverage: str = ""
    freshness: str = ""
    error: str = ""
    export: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ConversationState:
    """What follow-ups refer to: the last list shown (stats or recommendations), the playlist last touched and the
    last listening question's slots (`ListeningQuery.as_dict`), which a short follow-up changes one at a time.
    Kept with the session."""
    items: list[dict] = field(default_factory=list)
    playlist_id: str | None = None
    label: str = ""  # what the last list is ("upbeat for run"): the default name of a playlist made from it
    query: dict | None = None
    mentioned: list[dict] = field(default_factory=list)  # the last names asked about ("which one did I play more?")

    def as_dict(self) -> dict:
        return {"items": self.items, "playlist_id": self.playlist_id, "label": self.label, "query": self.query,
                "mentioned": self.mentioned}

    @classmethod
    def from_dict(cls, doc: dict | None) -> ConversationState:
        doc = doc or {}
        return cls(items=list(doc.get("items") or []), playlist_id=doc.get("playlist_id"), label=doc.get("label", ""),
                   query=doc.get("query"), mentioned=list(doc.get("mentioned") or []))


@dataclass
class ToolContext:
    listener: str
    scope: ListenerScope
    store: OperationalStore
    state: ConversationState
    today: date
    load_bundle: Callable[[], ServingBundle | None] = lambda: None  # loaded on first use: stats never wait for it

    @cached_property
    def bundle(self) -> ServingBundle | None:
        return self.load_bundle()

    @property
    def playlists(self) -> Playlists:
        return Playlists(self.store)

    def require_bundle(self) -> ServingBundle:
        if self.bundle is None:
            raise ToolError("no recommendation model has passed the gate yet, so I cannot recommend: materialize "
                            "the recommendations asset in Dagster (or run `make demo`) first")
        if self.listener not in self.bundle.listener_rows:
            raise ToolError(f"the served model was trained before {self.listener}'s listening was imported; "
                            "recommendations come after the next training run")
        return self.bundle


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict
    run: Callable[[ToolContext, dict], ToolResult]
    uses_model: bool = False

    def schema(self) -> dict:
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}


TOOLS: dict[str, Tool] = {}


def tool(name: str, description: str, /, required: tuple[str, ...] = (), uses_model: bool = False,
         **properties: dict):
    """Register a tool. `properties` are JSON-schema properties; no other argument is accepted."""
    def register(run: Callable[[ToolContext, dict], ToolResult]) -> Callable:
        parameters = {"type": "object", "properties": properties, "required": list(required),
                      "additionalProperties": False}
        TOOLS[name] = Tool(name, description, parameters, run, uses_model)
        return run
    return register


def string(description: str, enum: list[str] | None = None, max_length: int = 200) -> dict:
    return {"type": "string", "description": description, "maxLength": max_length} | ({"enum": enum} if enum else {})


def integer(description: str, minimum: int = 1, maximum: int = 50) -> dict:
    return {"type": "integer", "description": description, "minimum": minimum, "maximum": maximum}


def strings(description: str) -> dict:
    return {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 20, "description": description}


def integers(description: str) -> dict:
    return {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 10_000}, "maxItems": 100,
            "description": description}


DATE = {"type": "string", "format": "date", "description": "inclusive, YYYY-MM-DD"}
BOOLEAN = {"type": "boolean"}


def validate(tool_: Tool, arguments: Any) -> dict:
    """The arguments as the tool will use them, or a ToolError saying what is wrong."""
    if not isinstance(arguments, dict):
        raise ToolError(f"{tool_.name} takes a JSON object of arguments")
    spec = tool_.parameters["properties"]
    unknown = set(arguments) - set(spec)
    if unknown:
        raise ToolError(f"{tool_.name} has no argument {', '.join(sorted(unknown))}; it takes {', '.join(spec) or 'none'}")
    missing = [name for name in tool_.parameters["required"] if arguments.get(name) in (None, "", [])]
    if missing:
        raise ToolError(f"{tool_.name} needs {', '.join(missing)}")
    clean = {}
    for name, value in arguments.items():
        if value is None:
            continue
        clean[name] = _checked(f"{tool_.name}.{name}", spec[name], value)
    return clean


def _checked(where: str, spec: dict, value: Any) -> Any:
    kind = spec.get("type")
    if kind == "string":
        if not isinstance(value, str):
            raise ToolError(f"{where} must be text")
        if len(value) > spec.get("maxLength", 10_000):
            raise ToolError(f"{where} is longer than {spec['maxLength']} characters")
        if "enum" in spec and value not in spec["enum"]:
            raise ToolError(f"{where} must be one of {', '.join(spec['enum'])}")
        if spec.get("format") == "date":
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ToolError(f"{where} must be a date like 2024-03-31") from None
        return value
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float) or (kind == "integer" and value != int(value)):
            raise ToolError(f"{where} must be a {'whole ' if kind == 'integer' else ''}number")
        if not spec.get("minimum", -1e18) <= value <= spec.get("maximum", 1e18):
            raise ToolError(f"{where} must be between {spec['minimum']} and {spec['maximum']}")
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ToolError(f"{where} must be true or false")
        return value
    if kind == "array":
        if not isinstance(value, list) or len(value) > spec.get("maxItems", 100):
            raise ToolError(f"{where} must be a list of at most {spec.get('maxItems', 100)} values")
        return [_checked(where, spec["items"], v) for v in value]
    return value


def call(ctx: ToolContext, name: str, arguments: Any) -> tuple[ToolCall, ToolResult | None]:
    """Run one tool call; errors a user or model can cause come back in the call, never as an exception."""
    record = ToolCall(name=name, arguments=arguments if isinstance(arguments, dict) else {"raw": str(arguments)})
    tool_ = TOOLS.get(name)
    if tool_ is None:
        record.error = f"there is no tool {name!r}"
        return record, None
    try:
        result = tool_.run(ctx, validate(tool_, arguments))
    except ToolError as exc:
        record.error = str(exc)
        return record, None
    record.summary, record.query, record.coverage = result.summary, result.query, result.coverage
    record.rows, record.row_count = [_plain_row(r) for r in result.rows[:SHOWN_ROWS]], len(result.rows)
    record.export = result.export
    record.freshness = ctx.scope.freshness.describe()
    if tool_.uses_model and ctx.bundle is not None:
        record.freshness += f"; model {ctx.bundle.version[:8]} ({ctx.bundle.method})"
    if result.items is not None:
        ctx.state.items = [_plain_row(i) for i in result.items]
    if result.playlist_id:
        ctx.state.playlist_id = result.playlist_id
    return record, result


def _plain_row(row: dict) -> dict:
    """JSON- and BSON-safe values: dates as ISO text, numpy scalars as Python numbers, NaN as None."""
    out = {}
    for key, value in row.items():
        if hasattr(value, "item") and not isinstance(value, list | dict | str):
            value = value.item()
        if isinstance(value, float) and value != value:
            value = None
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, list | tuple) and not isinstance(value, str):
            value = [v.item() if hasattr(v, "item") else v for v in value]
        out[str(key)] = value
    return out


def rows_of(columns: list[str], rows: list[tuple]) -> list[dict]:
    return [dict(zip(columns, row)) for row in rows]


def numbered(lines) -> str:
    """A numbered list after a sentence ending in a colon: a Markdown list in the dashboard, lines in a terminal."""
    return ":\n\n" + "\n".join(lines) + "\n"


def resolve_positions(ctx: ToolContext, positions: list[int] | None) -> list[dict]:
    """Items of the last list by 1-based position (all of them when `positions` is empty)."""
    items = ctx.state.items
    if not items:
        raise ToolError("there is no earlier list to refer to: ask for recommendations or your top tracks first")
    if not positions:
        return list(items)
    bad = [p for p in positions if not 1 <= p <= len(items)]
    if bad:
        raise ToolError(f"the last list has {len(items)} entries; there is no number {', '.join(map(str, bad))}")
    return [items[p - 1] for p in positions]
