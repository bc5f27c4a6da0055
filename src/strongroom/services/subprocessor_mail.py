"""Who is mailed each subprocessor notice, and the mailing itself.

Subscribers: workspace owners of their own accord (they may opt out), and anyone who
subscribes on the public page and confirms from the link mailed to them (double opt-in).
Every address is sealed under the directory key, found by the directory's blind index
(the digest users' emails have), so an owner who also subscribed is one subscriber.

A public subscription does the same work whatever the address's state (it records the
request; the worker mails the confirmation), so its answer and its timing tell no one
whether an address is subscribed or a workspace owner's. An owner's opt-out is a flag of
its own: a public subscription of that address leaves it (no mail until the link mailed
to the address is followed), only the owner clears it (console, or that link).

Links (confirm, unsubscribe) carry the subscriber id and an HMAC of it under a key
derived from the directory key: nothing to store, valid on every node, unguessable.

A notice queues one delivery per subscriber in its own transaction; the worker claims
each (a conditional UPDATE: two workers never send one twice) and sends it
(:func:`deliver_pending`): sent (with the Message-ID), failed (retried, waiting
longer each time, up to ``subprocessor_delivery_attempts``), or not sent when no SMTP
server is set (retried once one is). A public subscriber whose attempts run out is marked
dead (no more notices; an owner never is).
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom import ids
from strongroom.crypto.blind_index import BlindIndexer
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DIRECTORY
from strongroom.domain import subprocessors as rules
from strongroom.domain.client_address import address_key
from strongroom.domain.rules import check_email
from strongroom.errors import MailNotSent, NotFound, RateLimited
from strongroom.mail import Mail, Mailer
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.workspaces import directory_index, user_email
from strongroom.storage.repositories.subprocessors import (
    DeliveryRow,
    NoticeRow,
    SubscriberRow,
)
from strongroom.storage.unit_of_work import DataUnitOfWork

log = logging.getLogger("strongroom.subprocessors")

PENDING, CONFIRMED, UNSUBSCRIBED, DEAD = "pending", "confirmed", "unsubscribed", "dead"
#: The window of the public page's subscription limit per client address.
SUBSCRIBE_WINDOW = timedelta(hours=1)
#: Deliveries one worker pass sends at most (the rest wait for the next pass).
DELIVERY_BATCH = 50
#: A claimed delivery whose outcome is not recorded after this is tried again (the
#: worker that claimed it stopped mid-send).
DELIVERY_LEASE = timedelta(minutes=10)


def _binding(subscriber_id: str) -> Binding:
    return Binding("subscriber-email", "", "", subscriber_id)


def _indexer(ctx: Context) -> BlindIndexer:
    _version, key = ctx.keyring.directory_key()
    return BlindIndexer(key)


def link_token(ctx: Context, purpose: str, subscriber_id: str) -> str:
    """``<subscriber id>.<HMAC>`` for a confirm or unsubscribe link."""
    mac = _indexer(ctx).digest(f"subscriber_link_{purpose}", subscriber_id).hex()
    return f"{subscriber_id}.{mac}"


def _check_token(ctx: Context, purpose: str, token: str) -> str:
    """The subscriber id a link's token names, or NotFound (one answer for any bad one)."""
    subscriber_id, _, _mac = token.strip().partition(".")
    bad = NotFound("this link is not valid (copy it whole from the message)")
    if len(token) > 200 or not ids.is_id("subscriber", subscriber_id):
        raise bad
    if not hmac.compare_digest(link_token(ctx, purpose, subscriber_id), token.strip()):
        raise bad
    return subscriber_id


def _seal(ctx: Context, subscriber_id: str, email: str) -> bytes:
    return ctx.seal(DIRECTORY, _binding(subscriber_id), email.encode("utf-8"))


def _email(ctx: Context, row: SubscriberRow, actor: str) -> str:
    return ctx.open(DIRECTORY, _binding(row.id), row.email_sealed, actor).decode("utf-8")


def queue_deliveries(ctx: Context, uow: DataUnitOfWork, notice_id: str, now: datetime) -> int:
    """In the notice's transaction: every workspace owner becomes a subscriber unless they
    opted out, and every confirmed subscriber gets a pending delivery (owners only while
    they own a workspace that is not closed). How many."""
    subscribers = uow.subprocessor_subscribers
    owners = subscribers.owners()
    for owner in owners:
        found = subscribers.find(owner.email_index)
        if found is None:
            email = user_email(ctx, owner.user_id, owner.email_sealed, "system")
            subscriber_id = ids.new_id("subscriber")
            sealed = _seal(ctx, subscriber_id, email)
            subscribers.add(
                SubscriberRow(
                    subscriber_id, sealed, owner.email_index, CONFIRMED, "owner", now, now
                )
            )
        elif found.state in (PENDING, DEAD) and not found.opted_out:
            # an owner is a subscriber of their own accord, unless they opted out (a
            # public subscription of their address does not undo that)
            subscribers.set_state(found.id, CONFIRMED, now)
    # an owner no longer owning a workspace (closed, purged) is not mailed as one
    owning = {owner.email_index for owner in owners}
    confirmed = [
        s
        for s in subscribers.confirmed()
        if not s.opted_out and (s.source != "owner" or s.email_index in owning)
    ]
    for subscriber in confirmed:
        uow.subprocessor_deliveries.add(
            DeliveryRow(
                ids.new_id("delivery"),
                notice_id,
                subscriber.id,
                "pending",
                0,
                None,
                None,
                now,
                None,
            )
        )
    return len(confirmed)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    not_sent: int = 0
    skipped: int = 0
    confirmations: int = 0

    def as_json(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "not_sent": self.not_sent,
            "skipped": self.skipped,
            "confirmations": self.confirmations,
        }


class Subscribers:
    def __init__(self, ctx: Context, mailer: Mailer) -> None:
        self.ctx = ctx
        self.mailer = mailer

    # the public page -------------------------------------------------------------------
    def subscribe(self, email: str, address: str | None) -> None:
        """Ask for notices at ``email``: a confirmation link is queued for the worker to
        mail (none to an address already confirmed, one an hour at most). The request does
        the same work and gives the same answer whatever the address's state, and never
        waits for a mail server, so neither its answer nor its timing tells anyone who
        subscribed. RateLimited past ``subprocessor_subscribes_per_address`` an hour from
        one client ``address``."""
        email = check_email(email)
        now = self.ctx.clock.now()
        index = directory_index(self.ctx, email)
        where = (
            _indexer(self.ctx).digest("subscribe_address", address_key(address))
            if address
            else None
        )
        new_id = ids.new_id("subscriber")
        sealed = _seal(self.ctx, new_id, email)  # sealed whatever the state: one cost
        with self.ctx.store.write() as uow:
            if where is not None:
                uow.subscribe_attempts.lock_address(where)
                self._count(uow, where, now)
            subscribers = uow.subprocessor_subscribers
            found = subscribers.find(index)
            if found is None:
                subscriber_id = new_id
                subscribers.add(
                    SubscriberRow(new_id, sealed, index, PENDING, "public", now, now, False, now)
                )
            else:
                subscriber_id = found.id
                recently_asked = found.state == PENDING and now - found.changed_at < (
                    SUBSCRIBE_WINDOW
                )
                if found.state == CONFIRMED or recently_asked:
                    # nothing more to send (one confirmation an hour at most: a form posted
                    # from many addresses cannot flood someone's inbox); the row is written
                    # all the same, so every state costs one update
                    subscribers.set_state(found.id, found.state, found.changed_at)
                else:  # an owner's opt-out stays: only the link mailed clears it
                    subscribers.set_state(found.id, PENDING, now, confirm_queued_at=now)
            audit.append(
                uow, now, "public", "subprocessor.subscribe", None, subscriber_id=subscriber_id
            )
            uow.commit()
        self.ctx.wake_worker()

    def _count(self, uow: DataUnitOfWork, where: bytes, now: datetime) -> None:
        """Under the address's lock: refuse past the limit, else count this request."""
        since = now - SUBSCRIBE_WINDOW
        attempts = uow.subscribe_attempts
        attempts.prune(since)
        if (
            attempts.count_since(where, since)
            >= self.ctx.settings.subprocessor_subscribes_per_address
        ):
            oldest = attempts.oldest_since(where, since) or now
            wait = max(1, int((oldest + SUBSCRIBE_WINDOW - now).total_seconds()) + 1)
            raise RateLimited(
                "too many subscriptions from this address; try later", retry_after=wait
            )
        attempts.add(where, now)

    def _send_confirmations(self) -> int:
        """The worker: mail the confirmations asked for, each claimed first (one worker
        sends it). One that fails is logged and dropped (the person may ask again)."""
        if not self.mailer.configured:
            return 0
        with self.ctx.store.read() as uow:
            due = uow.subprocessor_subscribers.confirmations_due(DELIVERY_BATCH)
        sent = 0
        for row in due:
            assert row.confirm_queued_at is not None  # confirmations_due
            with self.ctx.store.write() as uow:
                claimed = uow.subprocessor_subscribers.claim_confirmation(
                    row.id, row.confirm_queued_at
                )
                uow.commit()
            if claimed and self._mail_confirmation(_email(self.ctx, row, "worker"), row.id):
                sent += 1
        return sent

    def _mail_confirmation(self, email: str, subscriber_id: str) -> bool:
        token = link_token(self.ctx, "confirm", subscriber_id)
        link = f"{self._base()}/subprocessors/confirm?token={token}"
        body = (
            "Someone (we hope you) asked to be told of every change of our subprocessors.\n\n"
            f"To confirm, open this link and press Confirm:\n{link}\n\n"
            "If it was not you, ignore this message: nothing will be sent to you.\n"
        )
        try:
            self.mailer.send(Mail(email, "Confirm your subprocessor notices", body))
        except MailNotSent as failed:
            log.warning("confirmation for subscriber %s not sent: %s", subscriber_id, failed)
            return False
        return True

    def _base(self) -> str:
        return self.ctx.settings.public_url

    def confirm(self, token: str) -> None:
        """The link mailed to the address was followed: its owner (whoever asked) wants
        the notices, so an owner's opt-out is cleared too."""
        self._set_by_token("confirm", token, CONFIRMED, {PENDING}, opted_out=False)

    def unsubscribe(self, token: str) -> None:
        """The link in a notice: no more notices, and (for an owner) an opt-out that a
        public subscription cannot undo."""
        self._set_by_token("unsubscribe", token, UNSUBSCRIBED, {PENDING, CONFIRMED}, opted_out=True)

    def _set_by_token(
        self, purpose: str, token: str, state: str, from_states: set[str], opted_out: bool
    ) -> None:
        subscriber_id = _check_token(self.ctx, purpose, token)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = uow.subprocessor_subscribers.get(subscriber_id)
            if row is None:
                raise NotFound("this link is not valid (copy it whole from the message)")
            if row.state in from_states:
                uow.subprocessor_subscribers.set_state(
                    subscriber_id, state, now, opted_out=opted_out
                )
                audit.append(
                    uow, now, "public", f"subprocessor.{purpose}", None, subscriber_id=subscriber_id
                )
                uow.commit()

    # owners ------------------------------------------------------------------------------
    def owner_mailed(self, email: str) -> bool:
        """Whether an owner at ``email`` is mailed the notices (unless they opted out)."""
        with self.ctx.store.read() as uow:
            found = uow.subprocessor_subscribers.find(directory_index(self.ctx, email))
        return found is None or (not found.opted_out and found.state != UNSUBSCRIBED)

    def set_owner_mailed(self, email: str, mailed: bool, actor: str) -> None:
        """An owner opts out of (or back into) the notices by email: the opt-out is a flag
        only the owner clears."""
        email = check_email(email)
        index = directory_index(self.ctx, email)
        now = self.ctx.clock.now()
        state = CONFIRMED if mailed else UNSUBSCRIBED
        with self.ctx.store.write() as uow:
            found = uow.subprocessor_subscribers.find(index)
            if found is None:
                subscriber_id = ids.new_id("subscriber")
                sealed = _seal(self.ctx, subscriber_id, email)
                row = SubscriberRow(
                    subscriber_id, sealed, index, state, "owner", now, now, not mailed
                )
                uow.subprocessor_subscribers.add(row)
            else:
                subscriber_id = found.id
                uow.subprocessor_subscribers.set_state(
                    subscriber_id, state, now, opted_out=not mailed
                )
            action = "subprocessor.opt_in" if mailed else "subprocessor.opt_out"
            audit.append(uow, now, actor, action, None, subscriber_id=subscriber_id)
            uow.commit()

    def counts(self) -> dict[str, int]:
        with self.ctx.store.read() as uow:
            return uow.subprocessor_subscribers.counts()

    # the worker --------------------------------------------------------------------------
    def deliver_pending(self) -> DeliveryReport:
        """Send what is due: the confirmations asked for, then pending deliveries, failed
        ones whose wait is over, those not sent for want of a server once one is set, and
        claimed ones whose worker stopped. Each is claimed before it is sent, so two
        workers never send one twice."""
        confirmations = self._send_confirmations()
        now = self.ctx.clock.now()
        limit = self.ctx.settings.subprocessor_delivery_attempts
        with self.ctx.store.read() as uow:
            due = [
                d
                for d in uow.subprocessor_deliveries.due(
                    limit, DELIVERY_BATCH * 4, now - DELIVERY_LEASE
                )
                if rules.retry_due(d.state, d.attempts, d.updated_at, now)
                and not (d.state == "not-sent" and not self.mailer.configured)
            ][:DELIVERY_BATCH]
        counts = {"sent": 0, "failed": 0, "not-sent": 0, "skipped": 0}
        for delivery in due:
            claimed = self._claim(delivery)
            if claimed is not None:
                counts[self._deliver(claimed)] += 1
        return DeliveryReport(
            counts["sent"], counts["failed"], counts["not-sent"], counts["skipped"], confirmations
        )

    def _claim(self, delivery: DeliveryRow) -> DeliveryRow | None:
        """The delivery, taken by this worker; None if another took it first."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            taken = uow.subprocessor_deliveries.claim(delivery, now)
            uow.commit()
        return delivery if taken else None

    def _deliver(self, delivery: DeliveryRow) -> str:
        with self.ctx.store.read() as uow:
            notice = uow.subprocessor_notices.get(delivery.notice_id)
            subscriber = uow.subprocessor_subscribers.get(delivery.subscriber_id)
        now = self.ctx.clock.now()
        assert notice is not None and subscriber is not None  # foreign keys
        if subscriber.state != CONFIRMED or subscriber.opted_out:  # stopped before it went
            outcome = delivery._replace(state="skipped", updated_at=now, failing_since=None)
            return self._record(outcome, notice)
        attempts = delivery.attempts
        try:
            email = _email(self.ctx, subscriber, "worker")
            message_id = self.mailer.send(self._notice_mail(notice, subscriber.id, email))
        except MailNotSent as failed:
            state = "failed" if self.mailer.configured else "not-sent"
            outcome = delivery._replace(
                state=state,
                attempts=attempts + (1 if self.mailer.configured else 0),
                last_error=str(failed)[:300],
                updated_at=now,
                failing_since=delivery.failing_since or now,
            )
            return self._record(outcome, notice, subscriber)
        outcome = delivery._replace(
            state="sent",
            attempts=attempts + 1,
            message_id=message_id[:255],
            last_error=None,
            updated_at=now,
            failing_since=None,
        )
        return self._record(outcome, notice)

    def _record(
        self, outcome: DeliveryRow, notice: NoticeRow, subscriber: SubscriberRow | None = None
    ) -> str:
        with self.ctx.store.write() as uow:
            uow.subprocessor_deliveries.record(outcome)
            if outcome.state == "sent":
                audit.append(
                    uow,
                    outcome.updated_at,
                    "worker",
                    "subprocessor.notice_sent",
                    None,
                    notice_id=notice.id,
                    delivery_id=outcome.id,
                )
            exhausted = (
                outcome.state == "failed"
                and outcome.attempts >= self.ctx.settings.subprocessor_delivery_attempts
            )
            if exhausted and subscriber is not None:
                self._mark_dead(uow, subscriber, outcome)
            uow.commit()
        return outcome.state

    def _mark_dead(self, uow: DataUnitOfWork, subscriber: SubscriberRow, last: DeliveryRow) -> None:
        """A public subscriber whose address failed every attempt is mailed no more (and
        no longer counts against the promise); an owner is never given up on."""
        owning = {o.email_index for o in uow.subprocessor_subscribers.owners()}
        if subscriber.email_index in owning:
            return
        uow.subprocessor_subscribers.set_state(subscriber.id, DEAD, last.updated_at)
        audit.append(
            uow,
            last.updated_at,
            "worker",
            "subprocessor.subscriber_dead",
            None,
            subscriber_id=subscriber.id,
            delivery_id=last.id,
        )

    def _notice_mail(self, notice: NoticeRow, subscriber_id: str, email: str) -> Mail:
        return notice_mail(
            notice,
            email,
            public_page=f"{self._base()}/subprocessors",
            unsubscribe=f"{self._base()}/subprocessors/unsubscribe?token="
            + link_token(self.ctx, "unsubscribe", subscriber_id),
        )

    def deliveries(self, notice_id: str | None = None) -> list[DeliveryRow]:
        with self.ctx.store.read() as uow:
            if notice_id is None:
                return uow.subprocessor_deliveries.all()
            return uow.subprocessor_deliveries.of_notice(notice_id)


_KIND_WORDS = {
    "add": "New subprocessor",
    "replace": "Subprocessor changed",
    "remove": "Subprocessor removed",
}


def notice_mail(notice: NoticeRow, to: str, public_page: str, unsubscribe: str) -> Mail:
    """The message of one notice: what changes, from when, and how to object or stop."""
    details = json.loads(notice.details) if notice.details else {}
    name = details.get("legal_name") or notice.subprocessor_id
    effective = notice.effective_on.isoformat()
    lines = [
        f"{_KIND_WORDS[notice.kind]}: {name}, effective {effective} (00:00 UTC).",
        "",
    ]
    for field, words in rules.FIELDS.items():
        if field in details:
            lines.append(f"{words.capitalize()}: {details[field]}")
    lines += [
        "",
        f"Notice {notice.id}, published {notice.published_at.date().isoformat()}.",
        f"The current list and every announced change: {public_page}",
        "A workspace owner may object in the console (Subprocessor notices) until the "
        "effective date.",
        "",
        f"To stop these messages: {unsubscribe}",
    ]
    subject = f"{_KIND_WORDS[notice.kind]}: {name} (effective {effective})"
    return Mail(to, subject, "\n".join(lines) + "\n")
