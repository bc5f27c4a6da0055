"""Mail through a real SMTP server (aiosmtpd): delivered, or a one-line reason why not."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from strongroom.config import Settings
from strongroom.errors import ConfigurationError, MailNotSent
from strongroom.mail import Mail, Mailer
from tests.smtp_support import SmtpServer, free_port, smtp_server


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(home=tmp_path, **values).validate()  # type: ignore[arg-type]


def test_a_message_reaches_the_server_with_its_headers(tmp_path: Path, server: SmtpServer) -> None:
    mailer = Mailer(_settings(tmp_path, smtp_from="notices@saas.example", **server.settings()))
    sent = Mail("owner@acme.example", "New subprocessor", "Effective 2027-01-05.")
    message_id = mailer.send(sent)
    [got] = server.inbox.to("owner@acme.example")
    assert got["From"] == "notices@saas.example"
    assert got["Subject"] == "New subprocessor"
    assert got["Message-ID"] == message_id
    assert got.get_payload(decode=True).decode().strip() == "Effective 2027-01-05."


def test_a_subject_cannot_smuggle_headers(tmp_path: Path, server: SmtpServer) -> None:
    mailer = Mailer(_settings(tmp_path, **server.settings()))
    mailer.send(Mail("a@acme.example", "Hello\r\nBcc: victim@evil.example", "body"))
    [(recipients, got)] = server.inbox.messages
    assert recipients == ["a@acme.example"]
    assert got["Bcc"] is None and got["Subject"] == "Hello Bcc: victim@evil.example"


def test_without_a_server_nothing_is_sent_and_the_reason_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(MailNotSent, match="no smtp_host"):
        Mailer(_settings(tmp_path)).send(Mail("a@acme.example", "s", "b"))


def test_an_unreachable_server_is_not_sent(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_security="none",
        smtp_timeout_seconds=2,
    )
    with pytest.raises(MailNotSent, match="did not take it") as failed:
        Mailer(settings).send(Mail("a@acme.example", "s", "b"))
    assert "\n" not in str(failed.value)


def test_starttls_is_required_when_asked_for(tmp_path: Path, server: SmtpServer) -> None:
    settings = replace(_settings(tmp_path, **server.settings()), smtp_security="starttls")
    with pytest.raises(MailNotSent):
        Mailer(settings).send(Mail("a@acme.example", "s", "b"))
    assert server.inbox.messages == []


def test_a_bad_recipient_is_not_sent(tmp_path: Path, server: SmtpServer) -> None:
    with pytest.raises(MailNotSent, match="not an address"):
        Mailer(_settings(tmp_path, **server.settings())).send(Mail("not an address", "s", "b"))
    assert server.inbox.messages == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"smtp_security": "ssl"}, "smtp_security must be one of"),
        ({"smtp_port": 0}, "smtp_port"),
        ({"smtp_from": "a@b\r\nBcc: c@d"}, "smtp_from"),
    ],
)
def test_mail_settings_are_checked(tmp_path: Path, values: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        _settings(tmp_path, **values)


def test_an_address_read_as_several_is_not_sent(tmp_path: Path, server: SmtpServer) -> None:
    """Encoded words and commas would make one "address" several recipients."""
    mailer = Mailer(_settings(tmp_path, **server.settings()))
    other = base64.b64encode(b"x@b.example").decode()
    for to in (f"victim@a.example,=?utf-8?b?{other}?=", "a@a.example,b@b.example"):
        with pytest.raises(MailNotSent):
            mailer.send(Mail(to, "s", "b"))
    assert server.inbox.messages == []


class _Refusing:
    async def handle_RCPT(
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        return "550 5.1.1 <" + address + "> no such user here"


def test_a_refusal_is_recorded_without_the_address(tmp_path: Path) -> None:
    port = free_port()
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = _settings(tmp_path, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        with pytest.raises(MailNotSent) as refused:
            Mailer(settings).send(Mail("someone@acme.example", "s", "b"))
    finally:
        controller.stop()
    assert "someone" not in str(refused.value) and "550" in str(refused.value)


def test_mail_in_clear_is_only_for_this_machine(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="only for a relay on this machine"):
        _settings(tmp_path, smtp_host="smtp.example.com", smtp_security="none")
    assert _settings(tmp_path, smtp_host="::1", smtp_security="none").smtp_host == "::1"
