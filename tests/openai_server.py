"""A local server on 127.0.0.1 that speaks OpenAI's chat-completions HTTP protocol and answers from a script.

litellm's `mock_response` never opens a connection; this does, so the tests exercise litellm's real HTTP client, its
server-sent-event parsing of streamed text and tool calls, its timeout and its error mapping. Each request takes the
next step of the script:
    {"content": "text"}                       a streamed (or plain) answer
    {"tool_calls": [("top_items", {...})]}     the model asks for tools
    {"status": 500}                            a server error
    {"delay": 5, ...}                          wait first (the client's timeout fires)
Every request body is kept in `requests`, to assert what the client sent (history, tool results).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedOpenAI:
    def __init__(self, script: list[dict]) -> None:
        self.script = list(script)
        self.requests: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> dict:
        return self.script.pop(0) if self.script else {"content": "(script finished)"}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "invalid_request_error"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                step = server._next()
                if step.get("delay"):
                    time.sleep(step["delay"])
                try:
                    if step.get("status"):
                        self._json(step["status"], {"error": {"message": "scripted failure", "type": "server_error"}})
                    elif body.get("stream"):
                        self._stream(body, step)
                    else:
                        self._json(200, _completion(body, step))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its timeout): exactly what a delay step tests

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, body: dict, step: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for delta, finish in _deltas(step):
                    chunk = {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": body.get("model", "scripted"),
                             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        return Handler


def _tool_calls(step: dict) -> list[dict]:
    return [{"id": f"call_{i}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(arguments)}}
            for i, (name, arguments) in enumerate(step["tool_calls"])]


def _deltas(step: dict):
    if "tool_calls" in step:
        calls = _tool_calls(step)
        yield {"role": "assistant", "content": None,
               "tool_calls": [{"index": i, **call} for i, call in enumerate(calls)]}, None
        yield {}, "tool_calls"
        return
    words = step.get("content", "").split(" ")
    for i, word in enumerate(words):
        yield ({"role": "assistant"} if i == 0 else {}) | {"content": word + (" " if i < len(words) - 1 else "")}, None
    yield {}, "stop"


def _completion(body: dict, step: dict) -> dict:
    message = ({"role": "assistant", "content": None, "tool_calls": _tool_calls(step)} if "tool_calls" in step
               else {"role": "assistant", "content": step.get("content", "")})
    return {"id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if "tool_calls" in step else "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
