"""Outgoing mail over SMTP: subprocessor notices to their subscribers, replies from the
request inbox, and (later) break-glass notices to workspace owners.

One message, one connection: these are rare (a notice a month, a reply per request), so
a pool would only add state. What was sent, or why not, is the caller's to record:
:meth:`Mailer.send` returns the message id or raises :class:`MailNotSent` with a
one-line reason, and never logs a message's body.

Settings (config.py): ``smtp_host`` (empty: nothing is sent), ``smtp_port``,
``smtp_security`` (``starttls``, ``tls`` or ``none``), ``smtp_from``, ``smtp_username``
and the password from the variable ``smtp_password_env`` names.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from strongroom.config import Settings
from strongroom.domain.rules import check_email
from strongroom.errors import InvalidInput, MailNotSent

__all__ = ["Mail", "MailNotSent", "Mailer"]


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str  # plain text


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return bool(self.settings.smtp_host)

    def send(self, mail: Mail) -> str:
        """Hand ``mail`` to the SMTP server; its Message-ID, or MailNotSent."""
        s = self.settings
        if not self.configured:
            raise MailNotSent("no smtp_host is set: mail is not sent")
        try:
            to = check_email(mail.to)
        except InvalidInput as bad:
            raise MailNotSent(f"not an address mail can go to: {bad}") from None
        message = _message(mail, to, s.smtp_from)
        # One message, one recipient: an address the header parser reads as several (commas,
        # RFC 2047 encoded words) is refused, and the envelope names the one address given.
        addresses = message["To"].addresses
        if len(addresses) != 1 or addresses[0].addr_spec != to:
            raise MailNotSent("not one address mail can go to")
        try:
            with self._connect() as smtp:
                if s.smtp_username:
                    smtp.login(s.smtp_username, os.environ.get(s.smtp_password_env, ""))
                smtp.send_message(message, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as failed:
            raise MailNotSent(f"the SMTP server did not take it: {_reason(failed)}") from None
        return str(message["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        timeout = s.smtp_timeout_seconds
        if s.smtp_security == "tls":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=timeout, context=context)
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
        if s.smtp_security == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def _message(mail: Mail, to: str, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # a subject is one line: a header injection has nowhere to go
    message["Subject"] = " ".join(mail.subject.split())
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    return message


def _reason(failed: BaseException) -> str:
    """Why, in words of our own: a reply code and the exception's kind, never the server's
    text (which may quote the recipient's address, and is stored and logged)."""
    if isinstance(failed, smtplib.SMTPResponseException):
        return f"SMTP {failed.smtp_code} ({type(failed).__name__})"
    if isinstance(failed, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _text in failed.recipients.values()})
        return f"SMTP {', '.join(codes)}: recipient refused"
    return type(failed).__name__
