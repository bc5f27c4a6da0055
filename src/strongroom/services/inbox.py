"""The request inbox: support, security and privacy requests from the public, answered by
the deployment's operators on a first-response clock (domain/inbox.py).

1. ``submit``: the public form and ``POST /v1/inbox``. The input is checked first (bad
   input stores nothing), then, in one write transaction serialised per client address,
   the requests from that address in the last hour are counted (over the limit: 429,
   nothing stored) and the request is inserted: requester's email, subject and body
   sealed under the directory key, each bound to the request's id and its purpose; the
   address only as a keyed digest.
2. ``reply``: the message goes to the requester through the SMTP server first; then the
   reply is recorded with what happened. Only a reply the server took stops the clock;
   one it did not take is recorded as not sent (MailNotSent is raised after recording).
3. ``note`` and ``assign`` are recorded and audited; the clock runs on.
4. ``watch`` (the worker, each pass): a warning for each unanswered request due within
   the hour (mailed to ``inbox_notify``), a breach for each one past due. Each is set once,
   by a conditional update, so two workers never both warn or record a breach.
"""

from __future__ import annotations

import builtins
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY
from strongroom.domain import inbox as rules
from strongroom.domain.access import PrincipalKind
from strongroom.domain.client_address import address_key
from strongroom.domain.inbox import ClockState, EntryKind, RequestKind
from strongroom.domain.promises import Verdict
from strongroom.errors import InvalidInput, MailNotSent, NotFound, RateLimited
from strongroom.mail import Mail, Mailer
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.storage.rows import InboxEntryRow, InboxRequestRow
from strongroom.storage.unit_of_work import DataUnitOfWork

log = logging.getLogger("strongroom.inbox")

#: The intake's rate-limit window (requests per client address per hour).
INTAKE_WINDOW = timedelta(hours=1)
PUBLIC = "public"


@dataclass(frozen=True)
class Received:
    """What the requester is told: a reference and when to expect the first reply."""

    id: str
    kind: RequestKind
    received_at: datetime
    due_at: datetime


@dataclass(frozen=True)
class Entry:
    id: str
    kind: EntryKind
    author: str
    at: datetime
    text: str | None
    detail: str | None  # the assignee; why a reply was not sent
    message_id: str | None

    @property
    def sent(self) -> bool:
        return self.kind is EntryKind.REPLY and self.message_id is not None


@dataclass(frozen=True)
class InboxRequest:
    id: str
    kind: RequestKind
    email: str
    subject: str
    received_at: datetime
    due_at: datetime
    assigned_to: str | None
    answered_at: datetime | None
    warned_at: datetime | None
    breached_at: datetime | None
    state: ClockState
    time_left: str
    body: str | None = None  # shown one at a time, not in lists
    entries: tuple[Entry, ...] = ()


@dataclass
class WatchReport:
    warned: list[str]
    breached: list[str]


def _binding(purpose: str, object_id: str) -> Binding:
    return Binding(purpose, "", "", object_id)


class Inbox:
    def __init__(self, ctx: Context, mailer: Mailer) -> None:
        self.ctx = ctx
        self.mailer = mailer

    # intake --------------------------------------------------------------------------
    def submit(
        self, kind: str, email: str, subject: str, body: str, address: str | None = None
    ) -> Received:
        """Receive a request from the public; ``address``: the client's (None: not
        counted, as for a caller in this process). RateLimited past the hourly limit."""
        checked = rules.check_submission(kind, email, subject, body)
        request_id = ids.new_id("inbox-request")
        sealed = {
            part: self.ctx.seal(DIRECTORY, _binding(f"inbox-{part}", request_id), value.encode())
            for part, value in (
                ("email", checked.email),
                ("subject", checked.subject),
                ("body", checked.body),
            )
        }
        where = self._address_index(address) if address else None
        with self.ctx.store.write() as uow:
            now = self.ctx.clock.now()
            if where is not None:
                uow.inbox.lock_address(where)
                self._refuse_over_limit(uow.inbox.received_from(where, now - INTAKE_WINDOW), now)
            due = rules.due_at(now, self.ctx.settings.response_hours)
            uow.inbox.add(
                InboxRequestRow(
                    request_id,
                    checked.kind.value,
                    sealed["email"],
                    sealed["subject"],
                    sealed["body"],
                    where,
                    now,
                    due,
                    None,
                    None,
                    None,
                    None,
                )
            )
            audit.append(
                uow, now, PUBLIC, "inbox.receive", None, request_id=request_id, kind=checked.kind
            )
            uow.commit()
        return Received(request_id, checked.kind, now, due)

    def _address_index(self, address: str) -> bytes:
        _version, key = self.ctx.keyring.directory_key()
        return BlindIndexer(key).digest("inbox_address", address_key(address))

    def _refuse_over_limit(self, recent: builtins.list[datetime], now: datetime) -> None:
        allowed = self.ctx.settings.inbox_requests_per_address_hour
        if len(recent) < allowed:
            return
        oldest_counted = sorted(recent)[-allowed]
        wait = max(1, int((oldest_counted + INTAKE_WINDOW - now).total_seconds()) + 1)
        raise RateLimited(
            f"at most {allowed} requests an hour from one address; try again later",
            retry_after=wait,
        )

    # reading -------------------------------------------------------------------------
    def list(
        self, kind: str | None = None, state: str | None = None, actor: str = "operator"
    ) -> builtins.list[InboxRequest]:
        """Open requests first, soonest due (so overdue) first; then answered ones.
        ``state``: "open" (no reply sent yet) or "answered"; None: both."""
        kind = rules.check_kind(kind).value if kind else None
        if state not in (None, "open", "answered"):
            raise InvalidInput("state must be open or answered")
        with self.ctx.store.read() as uow:
            rows = uow.inbox.list(kind, None if state is None else state == "answered")
        now = self.ctx.clock.now()
        return [self._view(row, now, actor) for row in rows]

    def show(self, request_id: str, actor: str = "operator") -> InboxRequest:
        """One request, decrypted, with every reply, note and assignment."""
        with self.ctx.store.read() as uow:
            row = self._get(uow, request_id)
            entries = uow.inbox.entries(row.id)
        body = self._open(row.id, "body", row.body_sealed, actor)
        opened = tuple(self._entry(e, actor) for e in entries)
        view = self._view(row, self.ctx.clock.now(), actor)
        return InboxRequest(**{**view.__dict__, "body": body, "entries": opened})

    def _get(self, uow: DataUnitOfWork, request_id: str, lock: bool = False) -> InboxRequestRow:
        row = uow.inbox.get(request_id, lock) if ids.is_id("inbox-request", request_id) else None
        if row is None:
            raise NotFound(f"no inbox request {request_id[:64]!r}", request_id=request_id[:64])
        return row

    def _open(self, object_id: str, part: str, sealed: bytes, actor: str) -> str:
        return self.ctx.open(
            DIRECTORY, _binding(f"inbox-{part}", object_id), sealed, actor
        ).decode()

    def _view(self, row: InboxRequestRow, now: datetime, actor: str) -> InboxRequest:
        return InboxRequest(
            row.id,
            RequestKind(row.kind),
            self._open(row.id, "email", row.email_sealed, actor),
            self._open(row.id, "subject", row.subject_sealed, actor),
            row.received_at,
            row.due_at,
            row.assigned_to,
            row.answered_at,
            row.warned_at,
            row.breached_at,
            rules.clock_state(row.due_at, row.answered_at, now),
            rules.time_left(row.due_at, now),
        )

    def _entry(self, row: InboxEntryRow, actor: str) -> Entry:
        text = None
        if row.text_sealed is not None:
            text = self._open(row.id, "entry", row.text_sealed, actor)
        return Entry(
            row.id, EntryKind(row.kind), row.author, row.at, text, row.detail, row.message_id
        )

    # operators' work -----------------------------------------------------------------
    def reply(self, request_id: str, message: str, actor: str) -> Entry:
        """Send ``message`` to the requester; recorded either way. Only a reply the SMTP
        server took stops the clock; otherwise MailNotSent, after recording it."""
        text = rules.check_message("reply", message, rules.MAX_BODY_CHARS)
        request = self.show(request_id, actor)
        mail = Mail(request.email, f"Re: {request.subject} [{request.id}]", text)
        try:
            message_id: str | None = self.mailer.send(mail)
            failure = None
        except MailNotSent as not_sent:
            message_id, failure = None, str(not_sent)[:255]
        entry = self._record(request.id, EntryKind.REPLY, actor, text, failure, message_id)
        if failure is not None:
            raise MailNotSent(
                f"the reply was recorded as not sent and the clock runs on: {failure}",
                request_id=request.id,
            )
        return entry

    def note(self, request_id: str, message: str, actor: str) -> Entry:
        """An operators' note (never sent; the clock runs on)."""
        text = rules.check_message("note", message, rules.MAX_NOTE_CHARS)
        return self._record(request_id, EntryKind.NOTE, actor, text, None, None)

    def assign(self, request_id: str, operator_id: str, actor: str) -> Entry:
        """Give the request to an operator (an operator token's id; the clock runs on)."""
        with self.ctx.store.read() as uow:
            token = uow.tokens.get(operator_id) if ids.is_id("token", operator_id) else None
        if token is None or token.kind != PrincipalKind.OPERATOR.value or token.revoked_at:
            raise InvalidInput(f"not an operator token in force: {operator_id[:64]!r}")
        return self._record(request_id, EntryKind.ASSIGN, actor, None, operator_id, None)

    def _record(
        self,
        request_id: str,
        kind: EntryKind,
        actor: str,
        text: str | None,
        detail: str | None,
        message_id: str | None,
    ) -> Entry:
        entry_id = ids.new_id("inbox-entry")
        sealed = None
        if text is not None:
            sealed = self.ctx.seal(DIRECTORY, _binding("inbox-entry", entry_id), text.encode())
        with self.ctx.store.write() as uow:
            row = self._get(uow, request_id, lock=True)
            now = self.ctx.clock.now()
            position = uow.inbox.next_position(row.id)
            entry = InboxEntryRow(
                entry_id, row.id, kind.value, actor[:128], now, sealed, detail, message_id, position
            )
            uow.inbox.add_entry(entry)
            if kind is EntryKind.ASSIGN:
                uow.inbox.update(row.id, assigned_to=detail)
            if message_id is not None:
                uow.inbox.answer(row.id, now)
            sent = {"sent": message_id is not None} if kind is EntryKind.REPLY else {}
            audit.append(
                uow,
                now,
                actor,
                f"inbox.{kind.value}",
                None,
                request_id=row.id,
                entry_id=entry_id,
                **({"to": detail} if kind is EntryKind.ASSIGN else sent),
            )
            uow.commit()
        return Entry(entry_id, kind, actor[:128], now, text, detail, message_id)

    # the clock -----------------------------------------------------------------------
    def watch(self) -> WatchReport:
        """The worker's pass: warn of each request due within the hour, record a breach
        for each one past due (each once), and mail the warnings to ``inbox_notify``."""
        now = self.ctx.clock.now()
        report = WatchReport([], [])
        with self.ctx.store.write() as uow:
            for row in uow.inbox.unanswered_due_before(now + rules.WARNING_BEFORE, unmarked=True):
                warn = rules.needs_warning(row.due_at, row.answered_at, row.warned_at, now)
                if warn and self._mark(uow, row, "warned_at", "inbox.warning", now):
                    report.warned.append(row.id)
                breach = rules.needs_breach(row.due_at, row.answered_at, row.breached_at, now)
                if breach and self._mark(uow, row, "breached_at", "inbox.breach", now):
                    report.breached.append(row.id)
            uow.commit()
        self._notify(report.warned, now)
        return report

    @staticmethod
    def _mark(
        uow: DataUnitOfWork, row: InboxRequestRow, column: str, action: str, now: datetime
    ) -> bool:
        """Set ``column`` once and audit it; False if another worker did first."""
        if not uow.inbox.mark_once(row.id, column, now):
            return False
        due = row.due_at.isoformat()
        audit.append(uow, now, "worker", action, None, request_id=row.id, due_at=due)
        return True

    def _notify(self, warned: builtins.list[str], now: datetime) -> None:
        """One mail to the operators per warned request: its id and due time, no content."""
        to = self.ctx.settings.inbox_notify
        if not to or not warned:
            return
        with self.ctx.store.read() as uow:
            rows = [row for rid in warned if (row := uow.inbox.get(rid)) is not None]
        for row in rows:
            left = rules.time_left(row.due_at, now)
            body = (
                f"Inbox request {row.id} ({row.kind}) has had no reply sent yet.\n"
                f"Its first reply is due at {row.due_at.isoformat()} ({left}).\n"
                f"Answer it with: strongroom inbox reply {row.id} --message ...\n"
            )
            try:
                self.mailer.send(Mail(to, f"Inbox request {row.id}: reply due {left}", body))
            except MailNotSent as not_sent:
                log.warning("the warning for inbox request %s was not mailed: %s", row.id, not_sent)

    def verdict(self, now: datetime | None = None) -> Verdict:
        """The trust page's "contact answered within 24 hours": failing while any request
        is past its deadline without a sent reply."""
        now = now or self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            overdue = uow.inbox.count_overdue(now)
            open_requests = uow.inbox.count_open()
            breaches = uow.inbox.count_breaches_since(now - rules.BREACH_LOOKBACK)
        return rules.response_verdict(
            self.ctx.settings.response_hours, open_requests, overdue, breaches
        )
