"""The request inbox over HTTPS: anyone sends a request without a token and is limited per
address (429 with Retry-After); hostile input is refused and stores nothing; operators
(only) read, answer through a real SMTP server, annotate and assign; security.txt points
at the inbox and validates as RFC 9116."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sectxt import Parser

from strongroom.clock import FixedClock
from strongroom.console.app import create_site
from tests.e2e.api_support import LiveServer, live_server
from tests.smtp_support import SmtpServer, smtp_server

SENT = {
    "kind": "security",
    "email": "finder@example.org",
    "subject": "XSS in the invite page",
    "message": "Steps:\n1. open /invite\n2. paste the payload",
}


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def live(tmp_path: Path, mail: SmtpServer) -> Iterator[LiveServer]:
    settings = {**mail.settings(), "inbox_requests_per_address_hour": 3}
    with live_server(tmp_path / "home", clock=FixedClock(), **settings) as running:
        yield running


def test_anyone_sends_a_request_and_gets_a_reference_and_a_deadline(live: LiveServer) -> None:
    with live.client() as client:
        answer = client.post("/v1/inbox", json=SENT)
    assert answer.status_code == 201, answer.text
    got = answer.json()
    assert got["id"].startswith("req_") and got["response_hours"] == 24
    assert got["due_at"] == "2026-01-02T00:00:00Z"  # the FixedClock starts 2026-01-01


def test_a_long_message_in_any_script_fits_the_body_limit(live: LiveServer) -> None:
    message = "漢" * 20_000  # sent as \uXXXX escapes: 120,000 bytes of JSON
    with live.client() as client:
        answer = client.post("/v1/inbox", json={**SENT, "message": message})
        too_big = client.post("/v1/inbox", json={**SENT, "message": "x" * 300_000})
    assert answer.status_code == 201, answer.text
    assert live.sr.inbox.show(answer.json()["id"]).body == message
    assert too_big.status_code == 413


def test_past_the_limit_an_address_gets_429_with_retry_after(live: LiveServer) -> None:
    with live.client() as client:
        codes = [client.post("/v1/inbox", json=SENT).status_code for _ in range(3)]
        refused = client.post("/v1/inbox", json=SENT)
    assert codes == [201, 201, 201]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 3601
    assert len(live.sr.inbox.list()) == 3


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"subject": "Hi\r\nBcc: victim@evil.example"}, 400),
        ({"email": "finder@example.org\r\nBcc: victim@evil.example"}, 400),
        ({"email": "finder@example.org>, victim@evil.example"}, 400),
        ({"subject": "report\u202egnp.exe"}, 400),
        ({"message": "zero \u0000 byte"}, 400),
        ({"message": "x" * 20_001}, 422),
        ({"message": "x" * 5_000_000}, 413),
        ({"subject": "x" * 201}, 422),
        ({"kind": "sales"}, 422),
        ({"extra": "field"}, 422),
    ],
)
def test_hostile_input_is_refused_and_nothing_is_stored(
    live: LiveServer, change: dict[str, str], status: int
) -> None:
    with live.client() as client:
        answer = client.post("/v1/inbox", json={**SENT, **change})
    assert answer.status_code == status, answer.text
    assert live.sr.inbox.list() == []


def test_operators_only_read_and_answer_and_the_reply_reaches_the_requester(
    live: LiveServer, mail: SmtpServer
) -> None:
    sr = live.sr
    ws = sr.workspaces.create("Tenant A", "owner@a.example")
    member = sr.access.create_token(ws.id, "owner").token
    operator = sr.access.create_operator_token()
    with live.client() as public:
        request_id = public.post("/v1/inbox", json=SENT).json()["id"]
        assert public.get("/v1/inbox").status_code == 401
        assert public.get(f"/v1/inbox/{request_id}").status_code == 401
        assert (
            public.post(f"/v1/inbox/{request_id}/replies", json={"message": "x"}).status_code == 401
        )
    with live.client(member) as owner:
        assert owner.get("/v1/inbox").status_code == 403
        assert owner.get(f"/v1/inbox/{request_id}").status_code == 403
        assert owner.post(f"/v1/inbox/{request_id}/notes", json={"message": "x"}).status_code == 403
    with live.client(operator.token) as ops:
        [listed] = ops.get("/v1/inbox", params={"state": "open"}).json()["items"]
        assert listed["subject"] == SENT["subject"] and listed["message"] is None
        assert listed["time_left"] == "24 hours left" and listed["state"] == "running"
        note = ops.post(f"/v1/inbox/{request_id}/notes", json={"message": "Reproduced."})
        assert note.status_code == 201
        assigned = ops.post(f"/v1/inbox/{request_id}/assignment", json={"operator": operator.id})
        assert assigned.status_code == 201
        bad = ops.post(f"/v1/inbox/{request_id}/assignment", json={"operator": "tok_" + "a" * 26})
        assert bad.status_code == 400
        assert ops.get("/v1/inbox/req_" + "a" * 26).status_code == 404
        assert ops.get("/v1/inbox/../v1/health").status_code in (404, 422)
        replied = ops.post(
            f"/v1/inbox/{request_id}/replies", json={"message": "Thanks, fixed in 2.4.1."}
        )
        assert replied.status_code == 201 and replied.json()["sent"] is True
        shown = ops.get(f"/v1/inbox/{request_id}").json()
    assert shown["message"] == SENT["message"] and shown["state"] == "answered"
    assert [e["kind"] for e in shown["entries"]] == ["note", "assign", "reply"]
    [delivered] = mail.inbox.to(SENT["email"])
    assert delivered["Subject"] == f"Re: {SENT['subject']} [{request_id}]"


def test_a_reply_the_smtp_server_refuses_is_503_and_the_clock_runs_on(
    tmp_path: Path,
) -> None:
    clock = FixedClock()
    with live_server(tmp_path / "home", clock=clock) as live:  # no smtp_host: nothing is sent
        operator = live.sr.access.create_operator_token()
        with live.client(operator.token) as ops:
            request_id = ops.post("/v1/inbox", json=SENT).json()["id"]
            refused = ops.post(f"/v1/inbox/{request_id}/replies", json={"message": "Hello"})
            assert refused.status_code == 503
            assert "recorded as not sent" in refused.json()["detail"]
            clock.advance(timedelta(hours=24))
            shown = ops.get(f"/v1/inbox/{request_id}").json()
    assert shown["state"] == "breached" and shown["entries"][0]["sent"] is False


def test_security_txt_points_at_the_inbox_and_validates(tmp_path: Path) -> None:
    # the real clock: sectxt checks Expires against today's date
    with live_server(tmp_path / "home") as live, live.client() as client:
        answer = client.get("/.well-known/security.txt")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    parser = Parser(answer.content)
    assert parser.is_valid(), parser.errors
    assert parser.errors == []
    public_url = live.sr.settings.public_url
    contacts = [line for line in answer.text.splitlines() if line.startswith("Contact: ")]
    assert contacts == ["Contact: mailto:security@localhost", f"Contact: {public_url}/contact"]
    assert f"Canonical: {public_url}/.well-known/security.txt" in answer.text
    assert "Preferred-Languages: en" in answer.text


def test_security_txt_expires_under_a_year_from_whenever_it_is_read(tmp_path: Path) -> None:
    clock = FixedClock()
    with live_server(tmp_path / "home", clock=clock) as live, live.client() as client:
        first = client.get("/.well-known/security.txt").text
        clock.advance(timedelta(days=400))  # more than a year on, without a restart
        later = client.get("/.well-known/security.txt").text
    assert "Expires: 2026-06-30T00:00:00Z" in first  # the FixedClock starts 2026-01-01
    assert "Expires: 2027-08-04T00:00:00Z" in later


def test_the_contact_form_takes_a_long_message_and_refuses_hostile_fields(tmp_path: Path) -> None:
    with live_server(tmp_path / "home", app=create_site) as live, live.client() as client:
        form = {"kind": "privacy", "email": "kim@example.org", "subject": "개인정보"}
        sent = client.post("/contact", data={**form, "body": "데" * 20_000})
        assert sent.status_code == 201, sent.text[:500]
        assert "Request received" in sent.text
        assert sent.headers["content-security-policy"].startswith("default-src 'self'")
        refused = client.post(
            "/contact", data={**form, "subject": "Hi\r\nBcc: victim@evil.example", "body": "b"}
        )
        assert refused.status_code == 422
        assert 'id="subject-error"' in refused.text and "kim@example.org" in refused.text
        [stored] = live.sr.inbox.list()
        assert live.sr.inbox.show(stored.id).body == "데" * 20_000
