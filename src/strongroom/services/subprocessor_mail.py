"""Who is mailed each subprocessor notice, and the mailing itself.

Subscribers: workspace owners of their own accord (they may opt out), and anyone who
subscribes on the public page and confirms from the link mailed to them (double opt-in).
Every address is sealed under the directory key, found by the directory's blind index
(the digest users' emails have), so an owner who also subscribed is one subscriber.

Links (confirm, unsubscribe) carry the subscriber id and an HMAC of it under a key
derived from the directory key: nothing to store, valid on every node, unguessable.

A notice queues one delivery per subscriber in its own transaction; the worker sends
them (:func:`deliver_pending`): sent (with the Message-ID), failed (retried, waiting
longer each time, up to ``subprocessor_delivery_attempts``), or not sent when no SMTP
server is set (retried once one is).
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

PENDING, CONFIRMED, UNSUBSCRIBED = "pending", "confirmed", "unsubscribed"
#: The window of the public page's subscription limit per client address.
SUBSCRIBE_WINDOW = timedelta(hours=1)
#: Deliveries one worker pass sends at most (the rest wait for the next pass).
DELIVERY_BATCH = 50


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
        elif found.state == PENDING:  # an owner is a subscriber of their own accord
            subscribers.set_state(found.id, CONFIRMED, now)
    # an owner no longer owning a workspace (closed, purged) is not mailed as one
    owning = {owner.email_index for owner in owners}
    confirmed = [
        s for s in subscribers.confirmed() if s.source != "owner" or s.email_index in owning
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

    def as_json(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "not_sent": self.not_sent,
            "skipped": self.skipped,
        }


class Subscribers:
    def __init__(self, ctx: Context, mailer: Mailer) -> None:
        self.ctx = ctx
        self.mailer = mailer

    # the public page -------------------------------------------------------------------
    def subscribe(self, email: str, address: str | None) -> None:
        """Ask for notices at ``email``: a confirmation link is mailed (nothing is sent to
        an address already confirmed). The answer is the same whatever the address's
        state, so the page tells no one who subscribed. RateLimited past
        ``subprocessor_subscribes_per_address`` an hour from one client ``address``."""
        email = check_email(email)
        now = self.ctx.clock.now()
        index = directory_index(self.ctx, email)
        with self.ctx.store.write() as uow:
            if address:
                self._count(uow, address, now)
            found = uow.subprocessor_subscribers.find(index)
            recently_asked = (
                found is not None
                and found.state == PENDING
                and now - found.changed_at < SUBSCRIBE_WINDOW
            )
            if found is not None and (found.state == CONFIRMED or recently_asked):
                # nothing more to send (one confirmation an hour at most: a form posted
                # from many addresses cannot flood someone's inbox); counted all the same
                uow.commit()
                return
            if found is None:
                subscriber_id = ids.new_id("subscriber")
                row = SubscriberRow(
                    subscriber_id, _seal(self.ctx, subscriber_id, email), index, PENDING,
                    "public", now, now,
                )  # fmt: skip
                uow.subprocessor_subscribers.add(row)
            else:
                subscriber_id = found.id
                uow.subprocessor_subscribers.set_state(subscriber_id, PENDING, now)
            audit.append(
                uow, now, "public", "subprocessor.subscribe", None, subscriber_id=subscriber_id
            )
            uow.commit()
        self._mail_confirmation(email, subscriber_id)

    def _count(self, uow: DataUnitOfWork, address: str, now: datetime) -> None:
        where = _indexer(self.ctx).digest("subscribe_address", address_key(address))
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

    def _mail_confirmation(self, email: str, subscriber_id: str) -> None:
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

    def _base(self) -> str:
        return self.ctx.settings.public_url

    def confirm(self, token: str) -> None:
        self._set_by_token("confirm", token, CONFIRMED, from_states={PENDING})

    def unsubscribe(self, token: str) -> None:
        self._set_by_token("unsubscribe", token, UNSUBSCRIBED, from_states={PENDING, CONFIRMED})

    def _set_by_token(self, purpose: str, token: str, state: str, from_states: set[str]) -> None:
        subscriber_id = _check_token(self.ctx, purpose, token)
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = uow.subprocessor_subscribers.get(subscriber_id)
            if row is None:
                raise NotFound("this link is not valid (copy it whole from the message)")
            if row.state in from_states:
                uow.subprocessor_subscribers.set_state(subscriber_id, state, now)
                audit.append(
                    uow, now, "public", f"subprocessor.{purpose}", None, subscriber_id=subscriber_id
                )
                uow.commit()

    # owners ------------------------------------------------------------------------------
    def owner_mailed(self, email: str) -> bool:
        """Whether an owner at ``email`` is mailed the notices (unless they opted out)."""
        with self.ctx.store.read() as uow:
            found = uow.subprocessor_subscribers.find(directory_index(self.ctx, email))
        return found is None or found.state != UNSUBSCRIBED

    def set_owner_mailed(self, email: str, mailed: bool, actor: str) -> None:
        """An owner opts out of (or back into) the notices by email."""
        email = check_email(email)
        index = directory_index(self.ctx, email)
        now = self.ctx.clock.now()
        state = CONFIRMED if mailed else UNSUBSCRIBED
        with self.ctx.store.write() as uow:
            found = uow.subprocessor_subscribers.find(index)
            if found is None:
                subscriber_id = ids.new_id("subscriber")
                sealed = _seal(self.ctx, subscriber_id, email)
                row = SubscriberRow(subscriber_id, sealed, index, state, "owner", now, now)
                uow.subprocessor_subscribers.add(row)
            else:
                subscriber_id = found.id
                uow.subprocessor_subscribers.set_state(subscriber_id, state, now)
            action = "subprocessor.opt_in" if mailed else "subprocessor.opt_out"
            audit.append(uow, now, actor, action, None, subscriber_id=subscriber_id)
            uow.commit()

    def counts(self) -> dict[str, int]:
        with self.ctx.store.read() as uow:
            return uow.subprocessor_subscribers.counts()

    # the worker --------------------------------------------------------------------------
    def deliver_pending(self) -> DeliveryReport:
        """Send what is due: pending deliveries, failed ones whose wait is over, and those
        not sent for want of a server once one is set."""
        now = self.ctx.clock.now()
        limit = self.ctx.settings.subprocessor_delivery_attempts
        with self.ctx.store.read() as uow:
            due = [
                d
                for d in uow.subprocessor_deliveries.due(limit, DELIVERY_BATCH * 4)
                if rules.retry_due(d.state, d.attempts, d.updated_at, now)
                and not (d.state == "not-sent" and not self.mailer.configured)
            ][:DELIVERY_BATCH]
        counts = {"sent": 0, "failed": 0, "not-sent": 0, "skipped": 0}
        for delivery in due:
            counts[self._deliver(delivery)] += 1
        return DeliveryReport(
            counts["sent"], counts["failed"], counts["not-sent"], counts["skipped"]
        )

    def _deliver(self, delivery: DeliveryRow) -> str:
        with self.ctx.store.read() as uow:
            notice = uow.subprocessor_notices.get(delivery.notice_id)
            subscriber = uow.subprocessor_subscribers.get(delivery.subscriber_id)
        now = self.ctx.clock.now()
        assert notice is not None and subscriber is not None  # foreign keys
        if subscriber.state != CONFIRMED:  # unsubscribed before it went out
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
            return self._record(outcome, notice)
        outcome = delivery._replace(
            state="sent",
            attempts=attempts + 1,
            message_id=message_id[:255],
            last_error=None,
            updated_at=now,
            failing_since=None,
        )
        return self._record(outcome, notice)

    def _record(self, outcome: DeliveryRow, notice: NoticeRow) -> str:
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
            uow.commit()
        return outcome.state

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
