"""The soak's final check (bench/soak/checks.py) calls a write lost when the server no
longer holds what it acknowledged, and only then: a server that answers from a script
(httpx's MockTransport) stands in for Strongroom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bench.soak.checks import Verdict, check_records
from bench.soak.ledger import RecordEntry

DOC = {"email": "ada@soak.example", "n": 1}
NEWER = {"email": "ada@soak.example", "n": 2}


def server(answer: dict[str, Any] | None, restorable_days: int = 30) -> httpx.Client:
    """One record: live with ``answer``'s document, in the trash (``{"trash": id}``), or
    gone (None). A restore brings a trashed one back."""
    state: dict[str, Any] = {"answer": answer}
    until = (datetime.now(UTC) + timedelta(days=restorable_days)).isoformat()

    def handle(request: httpx.Request) -> httpx.Response:
        now = state["answer"]
        if request.method == "POST" and request.url.path.endswith("/restore"):
            state["answer"] = {"document": DOC}
            return httpx.Response(200, json={})
        if now is None:
            return httpx.Response(404, json={"title": "not found"})
        if "trash" in now:
            body = {"title": "in trash", "trash_entry_id": now["trash"], "restore_until": until}
            return httpx.Response(404, json=body)
        return httpx.Response(200, json={"id": "rec_1", "document": now["document"]})

    return httpx.Client(base_url="https://sr.test", transport=httpx.MockTransport(handle))


def entry(**changes: Any) -> RecordEntry:
    return RecordEntry("ws_1", "prj_1", "rec_1", dict(DOC), **changes)


def lost(client: httpx.Client, record: RecordEntry) -> list[str]:
    verdict = Verdict()
    check_records(client, [record], verdict)
    return verdict.lost


def test_an_acknowledged_document_read_back_is_kept() -> None:
    assert lost(server({"document": DOC}), entry()) == []


@pytest.mark.parametrize(
    "answer",
    [{"document": NEWER}, None, {"trash": "trs_1"}],
    ids=["older-or-other", "gone", "in-trash"],
)
def test_anything_but_the_acknowledged_document_is_lost(answer: dict[str, Any] | None) -> None:
    assert len(lost(server(answer), entry())) == 1


def test_an_unanswered_update_may_have_happened_or_not() -> None:
    maybe = entry(uncertain=[{"document": NEWER}])
    assert lost(server({"document": NEWER}), maybe) == []
    assert lost(server({"document": DOC}), maybe) == []
    assert len(lost(server(None), maybe)) == 1


def test_a_trashed_record_must_still_be_restorable_for_29_days() -> None:
    assert lost(server({"trash": "trs_1"}), entry(trashed="trs_1")) == []
    assert len(lost(server({"document": DOC}), entry(trashed="trs_1"))) == 1
    assert len(lost(server(None), entry(trashed="trs_1"))) == 1  # purged early
    early = lost(server({"trash": "trs_1"}, restorable_days=3), entry(trashed="trs_1"))
    assert len(early) == 1 and "trash ends" in early[0]


def test_a_purge_asked_for_is_gone_or_still_waiting() -> None:
    purged = entry(trashed="trs_1", purged=True)
    assert lost(server(None), purged) == []
    assert lost(server({"trash": "trs_1"}), purged) == []
    assert len(lost(server({"document": DOC}), purged)) == 1
