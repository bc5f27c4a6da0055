"""``sr.promises``: run every promise's check against the running deployment, keep the
results, and build the trust report from them.

A check that raises counts as failing (its evidence says it could not run, and the log
why): a broken check never shows a promise as holding. Results are kept
``promise_history_days``; each promise's newest result and newest pass are kept whatever
their age. A promise that turns failing or holding again appends an audit event (a run
that changes nothing does not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom.crypto.policy import policy_document
from strongroom.domain.promises import Verdict, status_of
from strongroom.errors import InvalidInput
from strongroom.promises.registry import Deployment, Promise
from strongroom.promises.report import PromiseView, TrustReport
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.storage.repositories.promise_checks import PromiseCheckRow

log = logging.getLogger("strongroom.promises")

#: Evidence is one line of at most this many characters.
EVIDENCE_MAX = 500


@dataclass(frozen=True)
class CheckRun:
    checked_at: datetime
    results: tuple[tuple[Promise, Verdict], ...]

    @property
    def all_hold(self) -> bool:
        return all(v.holds for _, v in self.results)

    def as_json(self) -> dict[str, object]:
        return {
            "checked_at": self.checked_at.isoformat(),
            "all_hold": self.all_hold,
            "promises": [
                {"id": p.id, "title": p.title, "holds": v.holds, "evidence": v.evidence}
                for p, v in self.results
            ],
        }


class Promises:
    def __init__(
        self,
        ctx: Context,
        registry: Sequence[Promise],
        deployment: Callable[[datetime], Deployment],
    ) -> None:
        ids = [p.id for p in registry]
        if len(set(ids)) != len(ids):
            raise ValueError(f"two promises share an id: {ids}")
        self.ctx = ctx
        self.registry = tuple(registry)
        self._deployment = deployment

    def __repr__(self) -> str:
        return f"Promises({[p.id for p in self.registry]})"

    def claims(self) -> dict[str, str]:
        settings = self.ctx.settings
        return {p.id: p.claim(settings) for p in self.registry}

    # checks --------------------------------------------------------------------------
    def check_all(self, actor: str = "system") -> CheckRun:
        """Run every check now and keep the results."""
        now = self.ctx.clock.now()
        deployment = self._deployment(now)
        results = tuple((p, _run(p, deployment)) for p in self.registry)
        rows = [PromiseCheckRow(p.id, now, v.holds, v.evidence) for p, v in results]
        keep_after = now - timedelta(days=self.ctx.settings.promise_history_days)
        with self.ctx.store.write() as uow:
            before = uow.promise_checks.newest()
            uow.promise_checks.add_many(rows)
            for promise, verdict in results:
                was = before.get(promise.id)
                if was is None or was.holds != verdict.holds:
                    audit.append(
                        uow,
                        now,
                        actor,
                        "promise.holding" if verdict.holds else "promise.failing",
                        None,
                        promise=promise.id,
                        evidence=verdict.evidence,
                    )
            uow.promise_checks.prune(keep_after)
            uow.commit()
        return CheckRun(now, results)

    def check_due(self, now: datetime) -> bool:
        """Whether a run is due: some promise was never checked, or its newest check is
        ``promise_check_minutes`` old."""
        every = timedelta(minutes=self.ctx.settings.promise_check_minutes)
        with self.ctx.store.read() as uow:
            newest = uow.promise_checks.newest()
        return any(
            p.id not in newest or now - newest[p.id].checked_at >= every for p in self.registry
        )

    def history(self, promise_id: str, limit: int = 50) -> list[PromiseCheckRow]:
        if promise_id not in {p.id for p in self.registry}:
            raise InvalidInput(f"no promise is called {promise_id[:64]!r}")
        with self.ctx.store.read() as uow:
            return uow.promise_checks.history(promise_id, limit)

    # the report ------------------------------------------------------------------------
    def report(self) -> TrustReport:
        """Every promise with its claim (from the settings now), status and evidence."""
        settings, now = self.ctx.settings, self.ctx.clock.now()
        stale_after = timedelta(minutes=settings.promise_stale_minutes)
        with self.ctx.store.read() as uow:
            newest = uow.promise_checks.newest()
            passed = uow.promise_checks.last_passed()
        views = []
        for promise in self.registry:
            row = newest.get(promise.id)
            views.append(
                PromiseView(
                    id=promise.id,
                    title=promise.title,
                    claim=promise.claim(settings),
                    status=status_of(
                        row.holds if row else None,
                        row.checked_at if row else None,
                        now,
                        stale_after,
                    ),
                    checked_at=row.checked_at if row else None,
                    evidence=row.evidence if row else "not checked yet",
                    last_passed_at=passed.get(promise.id),
                )
            )
        return TrustReport(
            now,
            settings.public_url,
            settings.promise_stale_minutes,
            tuple(views),
            policy_document(),
        )


def _run(promise: Promise, deployment: Deployment) -> Verdict:
    try:
        verdict = promise.check(deployment)
    except Exception as e:  # a check that cannot run proves nothing: failing
        # The evidence is public: the error's kind only; its message (paths, database
        # addresses) goes to the log.
        log.exception("the check of promise %s could not run", promise.id)
        verdict = Verdict.failed(
            f"the check could not run ({type(e).__name__}); the worker's log has the reason"
        )
    return Verdict(verdict.holds, _one_line(verdict.evidence))


def _one_line(text: str) -> str:
    line = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return line if len(line) <= EVIDENCE_MAX else line[: EVIDENCE_MAX - 1] + "…"
