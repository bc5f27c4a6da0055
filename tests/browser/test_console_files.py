"""Files of a project in the console, in a real browser: upload through the form (streamed
and encrypted), see it listed, download the same bytes, delete it to the trash; who may."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from strongroom.services.trash import TrashKind
from tests.browser.console_support import PASSWORD, Console

MARKER = b"Wombat-plaintext-marker-41"

#: A POST of a multipart form from the page, with the page's CSRF token in its URL,
#: as the console's upload form carries it (console/csrf.py).
_POST_FILE = """async ([url, name, text]) => {
  const token = document.querySelector("input[name=csrftoken]").value;
  const form = new FormData();
  form.append("csrftoken", token);
  if (name !== null) form.append("file", new File([text], name));
  const answer = await fetch(url + "?csrftoken=" + encodeURIComponent(token),
                             {method: "POST", body: form, redirect: "manual"});
  return [answer.status, await answer.text()];
}"""


def _project(console: Console, name: str = "Hiring") -> str:
    return console.site.sr.projects.create(console.site.workspace_id, name).id


def _stored(console: Console, project_id: str) -> list[Any]:
    return console.site.sr.files.list(console.site.workspace_id, project_id)


def test_a_member_uploads_a_file_sees_it_listed_and_downloads_the_same_bytes(
    console: Console, tmp_path: Path
) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    content = MARKER + os.urandom(300_000 - len(MARKER))  # several segments and chunks
    console.sign_in("member")
    console.visit(files, "files-empty")
    page = console.page
    assert page.get_by_text("No files in this project yet.").is_visible()
    assert page.locator("form[data-upload] progress").is_hidden()

    page.get_by_label("File").set_input_files(
        {"name": "cv of Ann.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_have_text("Uploaded cv of Ann.pdf (293.0 KiB).")
    console.check("files-uploaded")
    assert page.url.endswith(files)
    row = page.get_by_role("row").filter(has_text="cv of Ann.pdf")
    expect(row).to_contain_text("293.0 KiB")
    assert row.locator("data").get_attribute("value") == "300000"

    [stored] = _stored(console, project_id)
    assert (stored.name, stored.size) == ("cv of Ann.pdf", 300_000)
    for blob in Path(console.site.sr.settings.blob_dir).rglob("*"):
        assert not blob.is_file() or MARKER not in blob.read_bytes()  # encrypted at rest

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download cv of Ann.pdf").click()
    download = downloading.value
    assert download.suggested_filename == "cv of Ann.pdf"
    saved = tmp_path / "downloaded"
    download.save_as(saved)
    assert saved.read_bytes() == content


def test_the_upload_form_works_without_javascript(
    browser: Any, console: Console, tmp_path: Path
) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    site = console.site
    context = browser.new_context(
        ignore_https_errors=True, base_url=site.url, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"/console/sign-in?next={files}")
        page.get_by_label("Email").fill(site.emails["owner"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("File").set_input_files(
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello, plain form\n"}
        )
        page.get_by_role("button", name="Upload").click()
        expect(page.get_by_role("status")).to_have_text("Uploaded notes.txt (18 bytes).")
        assert page.url.endswith(files)
    finally:
        context.close()
    [stored] = _stored(console, project_id)
    out = io.BytesIO()
    site.sr.files.read_into(site.workspace_id, project_id, stored.id, out.write)
    assert out.getvalue() == b"hello, plain form\n"


def test_a_form_without_a_file_is_refused_next_to_the_field(console: Console) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    console.sign_in("member")
    console.visit(files, "files")
    status, html = console.page.evaluate(_POST_FILE, [files, None, ""])
    assert status == 422
    assert 'id="file-error"' in html and "Choose a file to upload." in html
    assert 'aria-describedby="file-error"' in html
    assert _stored(console, project_id) == []


def test_a_viewer_sees_no_upload_form_and_a_typed_post_is_refused(console: Console) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    sr, ws = console.site.sr, console.site.workspace_id
    kept = sr.files.put(ws, project_id, "kept.txt", io.BytesIO(b"kept"))
    console.sign_in("viewer")
    console.visit(files, "files-viewer")
    page = console.page
    assert page.locator("form[data-upload]").count() == 0
    assert page.get_by_role("link", name="Download kept.txt").is_visible()
    assert page.get_by_role("link", name="Delete kept.txt").count() == 0

    status, _ = page.evaluate(_POST_FILE, [files, "sneaked.txt", "sneaked in"])
    assert status == 403
    assert [f.name for f in _stored(console, project_id)] == ["kept.txt"]
    response = console.visit(f"{files}/{kept.id}/delete", "files-delete-refused")
    assert response.status == 403
    console.visit(files, "files-viewer-again")
    status, _ = page.evaluate(_POST_FILE, [f"{files}/{kept.id}/delete", None, ""])
    assert status == 403
    assert [f.name for f in _stored(console, project_id)] == ["kept.txt"]


def test_another_tenants_project_and_file_are_not_found(console: Console) -> None:
    sr = console.site.sr
    other = sr.workspaces.create("Other Co", "someone@other.example")
    theirs = sr.projects.create(other.id, "Theirs")
    secret = sr.files.put(other.id, theirs.id, "secret.txt", io.BytesIO(b"secret"))
    ours = _project(console)
    console.sign_in("owner")
    in_theirs = f"/projects/{theirs.id}/files"
    assert console.visit(console.ws(in_theirs), "files-other-project").status == 404
    assert console.visit(f"/console/w/{other.id}{in_theirs}", "files-other-ws").status == 404
    content = console.ws(f"/projects/{ours}/files/{secret.id}/content")
    assert console.visit(content, "files-other-file").status == 404
    console.visit(console.ws(f"/projects/{ours}/files"), "files-ours")
    status, _ = console.page.evaluate(_POST_FILE, [console.ws(in_theirs), "planted.txt", "planted"])
    assert status == 404
    assert [f.name for f in sr.files.list(other.id, theirs.id)] == ["secret.txt"]


def test_deleting_a_file_asks_first_then_moves_it_to_the_trash(console: Console) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    sr, ws = console.site.sr, console.site.workspace_id
    doomed = sr.files.put(ws, project_id, "old cv.pdf", io.BytesIO(b"x" * 2000))
    sr.files.put(ws, project_id, "new cv.pdf", io.BytesIO(b"y" * 10))
    console.sign_in("member")
    console.visit(files, "files-two")
    page = console.page

    page.get_by_role("link", name="Delete old cv.pdf").click()
    console.check("files-delete-confirm")
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete old cv.pdf?")
    assert {f.name for f in _stored(console, project_id)} == {"new cv.pdf", "old cv.pdf"}
    page.get_by_role("button", name="Move to the trash").click()
    expect(page.get_by_role("status")).to_contain_text("Moved old cv.pdf to the trash")
    console.check("files-deleted")
    assert page.url.endswith(files)
    assert page.get_by_role("row").filter(has_text="old cv.pdf").count() == 0
    assert page.get_by_role("row").filter(has_text="new cv.pdf").count() == 1

    [entry] = sr.trash.list(ws).items
    assert (entry.kind, entry.subject_id) == (TrashKind.FILE, doomed.id)
    assert [f.name for f in _stored(console, project_id)] == ["new cv.pdf"]


def test_a_long_list_pages_with_a_next_page_link(console: Console) -> None:
    project_id = _project(console)
    files = console.ws(f"/projects/{project_id}/files")
    sr, ws = console.site.sr, console.site.workspace_id
    for i in range(55):
        sr.files.put(ws, project_id, f"file {i:02d}.txt", io.BytesIO(b"%d" % i))
    console.sign_in("viewer")
    console.visit(files, "files-page-1")
    page = console.page
    first = page.locator("tbody tr").count()
    assert first == 50
    page.get_by_role("link", name="Next page").click()
    console.check("files-page-2")
    assert page.locator("tbody tr").count() == 5
    assert page.get_by_role("link", name="Next page").count() == 0
    shown = set(page.locator("tbody tr td:first-child").all_inner_texts())
    assert len(shown) == 5 and all(name.startswith("file ") for name in shown)
