"""Loopback receivers for notifications: an HTTP endpoint that records JSON posts (Slack-,
Discord-style or generic webhooks; it can be made slow) and an SMTP sink (aiosmtpd) that
records mail, both on 127.0.0.1."""

from __future__ import annotations

import email
import json
import threading
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from bot.demo.registry import free_port


class WebhookReceiver:
    """Records `(path, json body)` of every POST and answers 200; while `hold` is clear,
    requests to a path in `slow_paths` wait for it (a receiver that hangs)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.slow_paths: set[str] = set()
        self.hold = threading.Event()
        self.waiting = threading.Event()  # a slow request has arrived and waits
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.split("?")[0] in receiver.slow_paths:
                    receiver.waiting.set()
                    receiver.hold.wait(30)
                receiver.posts.append((self.path.split("?")[0], json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def bodies(self, path: str) -> list[Any]:
        return [body for p, body in self.posts if p == path]

    def stop(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """aiosmtpd on a free loopback port; `messages` are the parsed mails received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
                sink.messages.append(email.message_from_bytes(envelope.content))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def url(self, to: str = "ops@example.com") -> str:
        """The Apprise mailto URL that sends here, unencrypted (a loopback sink)."""
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=hoist@example.com&to={to}"

    def text(self, index: int) -> str:
        """The plain-text part of a received mail."""
        for part in self.messages[index].walk():
            if part.get_content_type() == "text/plain":
                payload = part.get_payload(decode=True)
                assert isinstance(payload, bytes)
                return payload.decode()
        raise AssertionError("no text/plain part")

    def stop(self) -> None:
        self.controller.stop()
