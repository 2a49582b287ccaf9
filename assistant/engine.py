"""One conversation turn: guard the message, answer it (providers in order, the offline assistant last), keep it.

`Assistant.reply` returns a `Reply`: iterate it for the answer's text as it streams (the dashboard writes it live,
the CLI collects it); afterwards `reply.answer` holds the whole answer with its tool calls, and the turn is stored
in the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import assistant.tools.music  # noqa: F401  (registers the tools)
import assistant.tools.playlists  # noqa: F401
import assistant.tools.stats  # noqa: F401
from assistant import llm
from assistant.offline import NameLists, ParseContext, Plan, guard, parse
from assistant.scope import ListenerScope
from assistant.sessions import ChatSessions
from assistant.toolkit import ConversationState, ToolCall, ToolContext, call
from serving.store import OperationalStore

if TYPE_CHECKING:  # heavy (numpy, pandas, scipy): loaded only when a recommendation tool needs the model
    from serving.bundle import ServingBundle

MAX_MESSAGE = 4000
OFFLINE = "offline"


@dataclass
class Answer:
    text: str
    session_id: str
    provider: str
    model: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. a provider that failed and was skipped

    def as_dict(self) -> dict:
        return {"session_id": self.session_id, "answer": self.text, "provider": self.provider, "model": self.model,
                "tool_calls": [c.as_dict() for c in self.tool_calls], "notes": self.notes}


class Reply:
    """The streamed text of one answer; `answer` is set once the stream is consumed.

    Reading may stop part-way (a dashboard run interrupted by the listener's next message) and resume with `collect`:
    the text already read is kept, so the answer is stored whole, once.
    """

    def __init__(self, session_id: str, events: Iterator[str | ToolCall],
                 finish: Callable[[str, list[ToolCall]], Answer]) -> None:
        self.session_id = session_id
        self._events, self._finish = events, finish
        self._parts: list[str] = []
        self.tool_calls: list[ToolCall] = []
        self.answer: Answer | None = None

    def __iter__(self) -> Iterator[str]:
        for event in self._events:
            if isinstance(event, ToolCall):
                self.tool_calls.append(event)
            else:
                self._parts.append(event)
                yield event
        if self.answer is None:
            self.answer = self._finish("".join(self._parts).strip(), self.tool_calls)

    def collect(self) -> Answer:
        for _ in self:
            pass
        return self.answer


class Assistant:
    def __init__(self, listener: str, db_path: Path, store: OperationalStore,
                 load_bundle: Callable[[], ServingBundle | None] = lambda: None,
                 providers: list[llm.Provider] = (), timeout: float = 30.0, today: date | None = None) -> None:
        self.listener = listener
        self.scope = ListenerScope.open(db_path, listener, store.time_zone(listener))
        self.store = store
        self.sessions = ChatSessions(store)
        self.load_bundle = load_bundle
        self.providers = list(providers)
        self.timeout = timeout
        self.today = today or datetime.now(UTC).date()
        self._bundle: ServingBundle | None = None
        self._others = set(self.scope.other_listeners)
        self._names = NameLists(self.scope)

    def _bundle_once(self) -> ServingBundle | None:
        if self._bundle is None:
            self._bundle = self.load_bundle()
        return self._bundle

    def reply(self, text: str, session_id: str | None = None) -> Reply:
        provider = self.providers[0] if self.providers else None
        session = (self.sessions.get(self.listener, session_id) if session_id else
                   self.sessions.start(self.listener, provider.name if provider else OFFLINE,
                                       provider.model if provider else OFFLINE))
        state = ConversationState.from_dict(session.get("state"))
        ctx = ToolContext(self.listener, self.scope, self.store, state, self.today, self._bundle_once)
        message = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", text).strip()
        used = {"provider": OFFLINE, "model": OFFLINE, "notes": []}

        def finish(answer_text: str, calls: list[ToolCall]) -> Answer:
            now = datetime.now(UTC)
            stored_user = message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + " …[cut]"
            assistant_message = {"role": "assistant", "content": answer_text, "at": now,
                                 "tool_calls": [c.as_dict() for c in calls], "provider": used["provider"],
                                 "model": used["model"], "notes": used["notes"], "rating": None}
            self.sessions.append(self.listener, session["session_id"],
                                 [{"role": "user", "content": stored_user, "at": now}, assistant_message],
                                 state.as_dict(), used["provider"], used["model"])
            return Answer(answer_text, session["session_id"], used["provider"], used["model"], calls, used["notes"])

        return Reply(session["session_id"], self._events(message, session, ctx, used), finish)

    def _events(self, message: str, session: dict, ctx: ToolContext, used: dict) -> Iterator[str | ToolCall]:
        if len(message) > MAX_MESSAGE:
            yield (f"That message is {len(message):,} characters long; I read at most {MAX_MESSAGE:,}. "
                   "Please ask in a shorter message. Nothing was done.")
            return
        parse_ctx = ParseContext(self.listener, self.scope, self.today, self._others, bool(ctx.state.items),
                                 self._names, label=ctx.state.label, has_playlist=bool(ctx.state.playlist_id),
                                 state=ctx.state)
        refusal = guard(message, parse_ctx)
        if refusal:
            yield refusal
            return
        if self.providers:
            answered = yield from self._from_providers(message, session, ctx, used)
            if answered:
                return
        yield from self._offline(message, parse_ctx, ctx)

    def _from_providers(self, message: str, session: dict, ctx: ToolContext, used: dict):
        fresh = self.scope.freshness.describe()
        history = [{"role": "system", "content": llm.SYSTEM.format(listener=self.listener, today=self.today,
                                                                  freshness=fresh)}]
        for m in session["messages"][-20:]:
            history.append({"role": m["role"], "content": m["content"]})
        history.append({"role": "user", "content": message})
        turn: list[dict] = []
        for provider in self.providers:
            streamed = False
            try:
                for event in llm.converse(provider, history, turn, ctx, self.timeout):
                    streamed = streamed or isinstance(event, str)
                    yield event
            except llm.ProviderFailed as exc:
                used["notes"].append(f"{exc} (skipped)")
                if streamed:
                    yield "\n\n"
                continue
            used["provider"], used["model"] = provider.name, provider.model
            return True
        used["notes"].append("no provider answered, so the offline assistant answered")
        return False

    def _offline(self, message: str, parse_ctx: ParseContext, ctx: ToolContext) -> Iterator[str | ToolCall]:
        plan = parse(message, parse_ctx)
        if plan.reply:
            yield plan.reply
            return
        records = []
        for name, arguments in plan.calls:
            record, _ = call(ctx, name, arguments)
            records.append(record)
            yield record
        if plan.label and any(not r.error and ctx.state.items for r in records):
            ctx.state.label = plan.label
        for sentence in compose(plan, records):
            yield sentence


def compose(plan: Plan, records: list[ToolCall]) -> Iterator[str]:
    """The offline answer: the note, each tool's facts and what the data could not cover, as streamed pieces."""
    if plan.note:
        yield plan.note + " "
    for i, record in enumerate(records):
        if i:
            yield "\n\n"
        if record.error:
            yield f"I couldn't do that: {record.error}."
            continue
        yield record.summary
        if record.coverage and record.coverage not in record.summary:
            yield ("\n" if record.summary.endswith("\n") else " ") + f"Note: {record.coverage}."
