"""Subprocessors over a live HTTPS server: the done-when of issue 14's item 3 (a 10-day
notice refused, a 30-day one in the Atom feed and in a subscriber's inbox by SMTP), the
feed checked by feedparser and a RELAX NG schema, objections, tenants and roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from strongroom.clock import FixedClock
from tests.e2e.api_support import LiveServer, live_server
from tests.smtp_support import SmtpServer, smtp_server

SCHEMA = Path(__file__).parent / "schemas" / "atom-required.rng"

ENTRY = {
    "legal_name": "Postmark (ActiveCampaign, LLC)",
    "address": "1 N Dearborn St, Chicago, IL 60602, USA",
    "contact": "privacy@postmark.example",
    "purpose": "Transactional email <delivery> & bounces",
    "data_categories": "names, email addresses",
    "location": "United States",
    "transfer_mechanism": "EU SCCs, Module 3",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def live(tmp_path: Path, clock: FixedClock, smtp: SmtpServer) -> Iterator[LiveServer]:
    settings = {k: str(v) for k, v in smtp.settings().items()}
    with live_server(tmp_path / "home", clock=clock, **settings) as server:
        yield server


def _effective(clock: FixedClock, days: int) -> str:
    return (clock.now() + timedelta(days=days)).date().isoformat()


def _operator(live: LiveServer) -> str:
    return live.sr.access.create_operator_token().token


def _add(live: LiveServer, token: str, days: int, **extra: Any) -> Any:
    body = {**ENTRY, "effective": _effective(live.sr.ctx.clock, days), **extra}  # type: ignore[arg-type]
    with live.client(token) as client:
        return client.post("/v1/subprocessors", json=body)


def test_a_ten_day_notice_is_refused_and_nothing_is_published(live: LiveServer) -> None:
    token = _operator(live)
    refused = _add(live, token, 10)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "earliest effective date" in refused.json()["detail"]
    with live.client() as client:
        assert client.get("/subprocessors.json").json()["upcoming"] == []
        assert feedparser.parse(client.get("/subprocessors.atom").content).entries == []


def test_a_missing_field_is_422_naming_it(live: LiveServer) -> None:
    response = _add(live, _operator(live), 30, transfer_mechanism="")
    assert response.status_code == 422 and "transfer_mechanism" in response.json()["detail"]


def test_a_thirty_day_notice_is_in_the_feed_and_reaches_a_subscriber(
    live: LiveServer, smtp: SmtpServer, clock: FixedClock
) -> None:
    with live.client() as client:
        asked = client.post("/v1/subprocessor-subscriptions", json={"email": "dpo@c.example"})
    assert asked.status_code == 202
    assert smtp.inbox.to("dpo@c.example") == []  # the request never waits for SMTP
    live.sr.worker.run_once()  # the worker mails the confirmation
    [confirmation] = smtp.inbox.to("dpo@c.example")
    token = _token(confirmation, "confirm")
    live.sr.subprocessor_subscribers.confirm(token)

    published = _add(live, _operator(live), 30)
    assert published.status_code == 201, published.text
    notice = published.json()
    live.sr.worker.run_once()

    mail = smtp.inbox.to("dpo@c.example")[-1]
    assert ENTRY["legal_name"] in mail["Subject"] and notice["effective"] in mail["Subject"]
    [delivery] = live.sr.subprocessor_subscribers.deliveries(notice["id"])
    assert delivery.state == "sent" and delivery.message_id == mail["Message-ID"]

    with live.client() as client:
        response = client.get("/subprocessors.atom")
        listed = client.get("/subprocessors.json").json()
    assert response.headers["content-type"] == "application/atom+xml"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    [entry] = parsed.entries
    assert ENTRY["legal_name"] in entry.title and notice["effective"] in entry.title
    assert ENTRY["purpose"] in entry.content[0].value  # escaped in XML, whole again here
    assert entry.id.startswith("urn:uuid:")
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    document = etree.fromstring(response.content)
    assert schema.validate(document), schema.error_log
    assert listed["subprocessors"] == [] and [n["id"] for n in listed["upcoming"]] == [notice["id"]]

    clock.advance(timedelta(days=31))
    with live.client() as client:
        listed = client.get("/subprocessors.json").json()
        again = feedparser.parse(client.get("/subprocessors.atom").content)
    assert [s["legal_name"] for s in listed["subprocessors"]] == [ENTRY["legal_name"]]
    assert again.entries[0].id == entry.id  # stable


def test_the_schema_check_can_fail() -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMA)))
    no_id = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>'
    assert not schema.validate(etree.fromstring(no_id))


def test_objections_before_and_after_the_effective_date(
    live: LiveServer, clock: FixedClock
) -> None:
    sr = live.sr
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    owner = sr.access.create_token(ws, "owner").token
    admin = sr.access.create_token(ws, "admin").token
    other = sr.workspaces.create("Other", "owner@other.example").id
    stranger = sr.access.create_token(other, "owner").token
    notice = _add(live, _operator(live), 30).json()
    path = f"/v1/workspaces/{ws}/subprocessor-notices/{notice['id']}/objection"

    with live.client(admin) as client:
        assert client.post(path, json={"reason": "no"}).status_code == 403
    with live.client(stranger) as client:
        assert client.post(path, json={"reason": "no"}).status_code == 404
    with live.client(owner) as client:
        made = client.post(path, json={"reason": "Our customers refuse US transfers"})
        assert made.status_code == 201, made.text
        assert client.post(path, json={}).status_code == 409  # once per workspace
        listed = client.get(f"/v1/workspaces/{ws}/subprocessor-notices").json()["notices"]
    assert listed[0]["objected"] is True
    with live.client(_operator(live)) as client:
        [objection] = client.get("/v1/subprocessor-objections").json()["objections"]
    assert objection["workspace_id"] == ws
    assert objection["reason"] == "Our customers refuse US transfers"

    late = _add(live, _operator(live), 30).json()
    clock.advance(timedelta(days=31))
    with live.client(owner) as client:
        closed = client.post(
            f"/v1/workspaces/{ws}/subprocessor-notices/{late['id']}/objection", json={}
        )
    assert closed.status_code == 409 and "took effect" in closed.json()["detail"]


def test_only_operators_change_the_list(live: LiveServer) -> None:
    ws = live.sr.workspaces.create("Acme", "owner@acme.example").id
    owner = live.sr.access.create_token(ws, "owner").token
    assert _add(live, owner, 30).status_code == 403
    with live.client() as client:
        assert client.get("/v1/subprocessors").status_code == 401
        assert client.get("/v1/subprocessor-objections").status_code == 401


def test_replace_and_remove_publish_notices(live: LiveServer) -> None:
    token = _operator(live)
    added = _add(live, token, 30).json()
    sid = added["subprocessor_id"]
    effective = _effective(live.sr.ctx.clock, 45)
    with live.client(token) as client:
        replaced = client.put(
            f"/v1/subprocessors/{sid}", json={**ENTRY, "location": "EU", "effective": effective}
        )
        removed = client.post(f"/v1/subprocessors/{sid}/removal", json={"effective": effective})
        short = client.post(
            f"/v1/subprocessors/{sid}/removal",
            json={"effective": _effective(live.sr.ctx.clock, 3)},
        )
        unknown = client.post(
            "/v1/subprocessors/sub_" + "a" * 26 + "/removal", json={"effective": effective}
        )
        listed = client.get("/v1/subprocessors").json()
    assert replaced.status_code == 201 and replaced.json()["kind"] == "replace"
    assert removed.status_code == 201 and removed.json()["kind"] == "remove"
    assert short.status_code == 422 and unknown.status_code == 404
    assert [n["kind"] for n in listed["notices"]] == ["remove", "replace", "add"]


def test_subscriptions_are_rate_limited_per_address(live: LiveServer) -> None:
    limit = live.sr.settings.subprocessor_subscribes_per_address
    with live.client() as client:
        for n in range(limit):
            ok = client.post("/v1/subprocessor-subscriptions", json={"email": f"p{n}@x.example"})
            assert ok.status_code == 202
        refused = client.post("/v1/subprocessor-subscriptions", json={"email": "q@x.example"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def _token(message: Any, kind: str) -> str:
    body = message.get_payload(decode=True).decode()
    link = next(w for w in body.split() if f"/subprocessors/{kind}?token=" in w)
    return str(link.split("token=", 1)[1])
