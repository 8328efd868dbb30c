"""A loopback JSON service standing in for a partner (civil registry, SMS gateway) in backend tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonStub:
    """Answers POSTs from ``answers``, a queue of (status, body) whose last entry repeats.

    With no answers it sends ``default``; a body of None sends bytes that are not JSON.
    Every request is kept in ``requests`` as {"path", "auth", "body", "headers", "raw"}: ``body`` is
    the parsed JSON, ``raw`` the bytes as sent (to check a signature), ``headers`` a plain dict.
    """

    def __init__(self, default: tuple[int, dict | None] = (200, {})):
        self.answers: list[tuple[int, dict | None]] = []
        self.requests: list[dict] = []
        self.default = default
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                length = int(self.headers["Content-Length"])
                raw = self.rfile.read(length)
                stub.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "body": json.loads(raw),
                        "headers": dict(self.headers.items()),
                        "raw": raw,
                    }
                )
                status, body = stub._next_answer()
                payload = json.dumps(body).encode() if body is not None else b"not json"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port

    def _next_answer(self) -> tuple[int, dict | None]:
        if not self.answers:
            return self.default
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> JsonStub:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
