"""A fault-injecting OpenAI chat-completions server on 127.0.0.1 (stdlib http.server in a thread).

Transport faults are consumed in order from ``faults`` (one per incoming request): ``429`` (with
Retry-After), ``500``, ``timeout`` (answers after the client gave up), ``truncated`` (a body cut in
the middle), ``malformed`` (200 with a body that is not JSON). Requests that draw no fault get
``reply(prompt)``: (message content, finish_reason). Every request, its Authorization header and
whether it was answered are recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FaultServer:
    reply: Callable[[str], tuple[str, str]]
    faults: list[str] = field(default_factory=list)
    retry_after_s: float = 0.3
    timeout_sleep_s: float = 1.5
    received: list[str] = field(default_factory=list)       # prompts of every request
    answered: list[str] = field(default_factory=list)       # prompts answered with a complete reply
    auth: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with outer.lock:
                    outer.received.append(prompt)
                    outer.auth.append(self.headers.get("Authorization", ""))
                    fault = outer.faults.pop(0) if outer.faults else None
                if fault == "429":
                    return self._send(429, b'{"error": {"message": "slow down"}}',
                                      {"Retry-After": str(outer.retry_after_s)})
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "boom"}}')
                if fault == "timeout":
                    time.sleep(outer.timeout_sleep_s)
                content, finish = outer.reply(prompt)
                payload = json.dumps({
                    "id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": finish,
                                 "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}).encode()
                if fault == "truncated":
                    return self._send(200, payload[: len(payload) // 2])
                if fault == "malformed":
                    return self._send(200, b"<html>502 bad gateway</html>")
                if fault != "timeout":
                    with outer.lock:
                        outer.answered.append(prompt)
                self._send(200, payload)

            def _send(self, status: int, data: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
