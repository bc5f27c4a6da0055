"""Privacy requests with the real ``strongroom`` command: recorded on the law's clock,
verified before work, extended once, and shown overdue when the clock (Debian's faketime)
passes the due date."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from tests.e2e.test_cli import bad, ok_json, run
from tests.e2e.test_cli_lifecycle import at, cli_home, faketime  # noqa: F401 - fixtures


def _workspace(home: Path) -> str:
    return str(ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"])


def test_a_gdpr_request_from_creation_to_completion(cli_home: Path) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    created = ok_json(
        "privacy", "create", ws, "--type", "deletion", "--law", "gdpr",
        "--email", "ada@example.com", "--phone", "+44 20 8366 1177", "--received", "2026-01-31",
        home=cli_home,
    )  # fmt: skip
    assert created["id"].startswith("dsr_")
    assert (created["received_on"], created["due"]) == ("2026-01-31", "2026-02-28")
    assert "identifiers" not in created  # the subject is shown only by `privacy show`
    req = created["id"]

    shown = ok_json("privacy", "show", ws, req, home=cli_home)
    assert shown["identifiers"] == [
        {"kind": "email", "value": "ada@example.com"},
        {"kind": "phone", "value": "+44 20 8366 1177"},
    ]
    message = bad("privacy", "complete", ws, req, home=cli_home)
    assert "verify" in message
    verified = ok_json(
        "privacy", "verify", ws, req, "--method", "reply", "--by", "bob", home=cli_home
    )
    assert verified["state"] == "verified"
    assert ok_json("privacy", "complete", ws, req, home=cli_home)["state"] == "completed"
    human = run("privacy", "list", ws, home=cli_home).stdout.decode()
    assert req in human and "completed" in human


def test_bad_input_is_one_line_and_changes_nothing(cli_home: Path) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    for args, words in [
        (["--type", "forget", "--law", "gdpr", "--email", "a@b.example"], "unknown request type"),
        (["--type", "access", "--law", "gdpr"], "names its subject"),
        (["--type", "access", "--law", "other", "--email", "a@b.example"], "due date"),
        (
            ["--type", "access", "--law", "gdpr", "--email", "a@b.example", "--received", "31/01"],
            "--received",
        ),
    ]:
        assert words in bad("privacy", "create", ws, *args, home=cli_home)
    assert ok_json("privacy", "list", ws, home=cli_home) == {"requests": []}
    assert "no privacy request" in bad("privacy", "show", ws, "dsr_" + "a" * 26, home=cli_home)


def test_an_overdue_request_shows_in_the_due_list(cli_home: Path, faketime: str) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    req = ok_json(
        "privacy", "create", ws, "--type", "access", "--law", "ccpa", "--name", "Ada Lovelace",
        home=cli_home,
    )["id"]  # fmt: skip
    assert ok_json("privacy", "list", ws, "--due-within", "10", home=cli_home) == {"requests": []}
    soon = at(40, faketime, "privacy", "list", ws, "--due-within", "10", home=cli_home)
    assert [(r["id"], r["days_left"], r["overdue"]) for r in soon["requests"]] == [(req, 5, False)]
    late = at(46, faketime, "privacy", "list", ws, "--due-within", "0", home=cli_home)
    assert [(r["id"], r["overdue"]) for r in late["requests"]] == [(req, True)]
    result = run("privacy", "list", ws, home=cli_home, wrap=[faketime, "-f", "+47d"])
    assert "overdue by 2 days" in result.stdout.decode()
    # Too late to extend: the extension must come before the due date.
    result = run(
        "privacy", "extend", ws, req, "--reason", "late", "--days", "5",
        home=cli_home, wrap=[faketime, "-f", "+46d"],
    )  # fmt: skip
    assert result.returncode == 2 and b"before the due date passes" in result.stderr
    due = date.fromisoformat(ok_json("privacy", "show", ws, req, home=cli_home)["due"])
    assert due - date.fromisoformat(
        ok_json("privacy", "show", ws, req, home=cli_home)["received_on"]
    ) == timedelta(days=45)


def test_the_lifecycle_plan_lists_requests_falling_due(cli_home: Path) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    req = ok_json(
        "privacy", "create", ws, "--type", "deletion", "--law", "ccpa", "--email", "a@b.example",
        home=cli_home,
    )  # fmt: skip
    assert ok_json("lifecycle", "plan", home=cli_home)["privacy_requests"] == []  # 45 days away
    until = (date.fromisoformat(req["due"]) + timedelta(days=1)).isoformat()
    planned = ok_json("lifecycle", "plan", "--until", until, home=cli_home)["privacy_requests"]
    assert [(r["id"], r["due"]) for r in planned] == [(req["id"], req["due"])]
    human = run("lifecycle", "plan", "--until", until, home=cli_home).stdout.decode()
    assert req["id"] in human


def test_personal_fields_with_kinds_and_a_located_subject(cli_home: Path) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    project = ok_json("project", "create", ws, "Hiring", home=cli_home)["id"]
    declared = ok_json(
        "collection", "declare", ws, "candidates", "--personal", "candidate.email",
        "--personal", "refs[].email", "--personal", "passport:identifier", "--file", "cv",
        home=cli_home,
    )  # fmt: skip
    assert declared["personal"] == [
        {"path": "candidate.email", "kind": "email"},
        {"path": "passport", "kind": "identifier"},
        {"path": "refs[].email", "kind": "email"},
    ]
    assert declared["file_fields"] == ["cv"]
    assert "unknown kind" in bad(
        "collection", "declare", ws, "candidates", "--personal", "email:mail", home=cli_home
    )
    doc = '{"candidate": {"email": "x@example.com"}, "refs": [{"email": "Ada@example.com"}]}'
    record = ok_json("record", "put", ws, project, "candidates", doc, home=cli_home)["id"]
    req = ok_json(
        "privacy", "create", ws, "--type", "access", "--law", "gdpr", "--email", "ada@example.com",
        home=cli_home,
    )["id"]  # fmt: skip
    located = ok_json("privacy", "locate", ws, req, home=cli_home)
    assert located == {
        "matches": [
            {
                "project_id": project,
                "collection": "candidates",
                "record_id": record,
                "fields": ["refs[].email"],
                "trashed": False,
                "restricted": False,
            }
        ]
    }
    human = run("privacy", "locate", ws, req, home=cli_home).stdout.decode()
    assert record in human and "refs[].email" in human


def test_a_subject_exported_verified_and_imported_elsewhere(
    cli_home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    ws = _workspace(cli_home)
    project = ok_json("project", "create", ws, "Hiring", home=cli_home)["id"]
    ok_json(
        "collection", "declare", ws, "candidates", "--personal", "email", "--file", "cv",
        home=cli_home,
    )  # fmt: skip
    cv = tmp_path / "cv.pdf"
    cv.write_bytes(b"%PDF Ada " * 20_000)
    file_id = ok_json("file", "put", ws, project, str(cv), home=cli_home)["id"]
    ada = json.dumps({"email": "ada@example.com", "cv": file_id})
    ok_json("record", "put", ws, project, "candidates", ada, home=cli_home)
    ok_json("record", "put", ws, project, "candidates", '{"email": "eve@x.example"}', home=cli_home)
    req = ok_json(
        "privacy", "create", ws, "--type", "portability", "--law", "gdpr",
        "--email", "ada@example.com", home=cli_home,
    )["id"]  # fmt: skip
    package = tmp_path / "ada.zip"
    assert "verify" in bad("privacy", "export", ws, req, "-o", str(package), home=cli_home)
    assert not package.exists()
    ok_json("privacy", "verify", ws, req, "--method", "reply", "--by", "bob", home=cli_home)

    done = ok_json("privacy", "export", ws, req, "-o", str(package), home=cli_home)
    assert (done["counts"]["records"], done["counts"]["files"]) == (1, 1)
    assert package.stat().st_mode & 0o777 == 0o600
    checked = run("export", "verify", str(package), "--json")  # no home: a file on its own
    assert checked.returncode == 0, checked.stderr
    verified = json.loads(checked.stdout)
    assert verified["ok"] is True and verified["entries"] == 4

    other = ok_json("workspace", "create", "Beta", "--owner", "o@beta.example", home=cli_home)
    target = ok_json("project", "create", other["id"], "Imported", home=cli_home)["id"]
    imported = ok_json("privacy", "import", other["id"], target, str(package), home=cli_home)
    assert (imported["records"], imported["files"]) == (1, 1)
    [record] = ok_json("record", "list", other["id"], target, "candidates", home=cli_home)[
        "records"
    ]
    new_cv = imported["file_ids"][file_id]
    got = ok_json("record", "get", other["id"], target, record["id"], home=cli_home)
    assert got == {"email": "ada@example.com", "cv": new_cv}
    back = tmp_path / "back.pdf"
    ok_json("file", "get", other["id"], target, new_cv, "-o", str(back), home=cli_home)
    assert back.read_bytes() == cv.read_bytes()

    tampered = bytearray(package.read_bytes())
    tampered[tampered.index(b"%PDF Ada")] ^= 1
    package.write_bytes(bytes(tampered))
    assert "nothing was imported" in bad(
        "privacy", "import", other["id"], target, str(package), home=cli_home
    )
    assert (
        len(ok_json("record", "list", other["id"], target, "candidates", home=cli_home)["records"])
        == 1
    )


def test_a_subject_erased_with_a_certificate_that_verifies(cli_home: Path) -> None:  # noqa: F811
    ws = _workspace(cli_home)
    project = ok_json("project", "create", ws, "Hiring", home=cli_home)["id"]
    ok_json(
        "collection", "declare", ws, "candidates", "--personal", "email", "--personal",
        "refs[].email", home=cli_home,
    )  # fmt: skip
    ada = ok_json(
        "record", "put", ws, project, "candidates", '{"email": "ada@example.com"}', home=cli_home
    )["id"]
    bob_doc = '{"email": "bob@example.com", "refs": [{"email": "ada@example.com"}], "n": 1}'
    bob = ok_json("record", "put", ws, project, "candidates", bob_doc, home=cli_home)["id"]
    req = ok_json(
        "privacy", "create", ws, "--type", "deletion", "--law", "ccpa", "--email",
        "ada@example.com", home=cli_home,
    )["id"]  # fmt: skip
    assert "verify" in bad("privacy", "erase", ws, req, "--confirm", home=cli_home)
    ok_json("privacy", "verify", ws, req, "--method", "reply", "--by", "dpo", home=cli_home)
    assert "--confirm" in bad("privacy", "erase", ws, req, home=cli_home)
    assert ok_json("privacy", "locate", ws, req, home=cli_home)["matches"] != []  # unchanged

    erased = ok_json("privacy", "erase", ws, req, "--confirm", home=cli_home)

    assert erased["state"] == "done"
    counts = erased["counts"]  # Ada's record erased; Bob's, where she is a referral, redacted
    assert (counts["records_erased"], counts["records_redacted"], counts["records_pending"]) == (
        1,
        1,
        0,
    )
    assert ok_json("privacy", "locate", ws, req, home=cli_home) == {"matches": []}
    assert "no record" in bad("record", "get", ws, project, ada, home=cli_home)
    bob_now = ok_json("record", "get", ws, project, bob, home=cli_home)
    assert bob_now == {"email": "bob@example.com", "refs": [{}], "n": 1}
    shown = ok_json("privacy", "show", ws, req, home=cli_home)
    assert shown["state"] == "completed" and shown["identifiers"] == []
    assert shown["erasure"]["certificate_id"] == erased["certificate_id"]
    certificate = cli_home / "certificate.json"
    certificate.write_text(
        json.dumps(ok_json("certificate", "show", erased["certificate_id"], home=cli_home))
    )
    assert (
        ok_json("certificate", "verify", str(certificate), home=cli_home)["certificate_id"]
        == (erased["certificate_id"])
    )
