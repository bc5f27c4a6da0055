"""A real SMTP server for the tests (aiosmtpd on a free local port), and what it got."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from tests.ports import free_port


@dataclass
class Inbox:
    """What the server accepted: each message with its envelope recipients."""

    messages: list[tuple[list[str], Message]] = field(default_factory=list)
    #: Refuse every message (a mail server that is up but will not take mail).
    refusing: bool = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusing:
            return "554 5.7.1 refused by the test"
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    def settings(self) -> dict[str, Any]:
        """Settings overrides that send mail to this server."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none"}


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()
