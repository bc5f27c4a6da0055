"""Only a SHA-256 of a token is stored: every byte Strongroom keeps on disk for a home
(data store and its WAL, keystore, blobs, settings, keys) is scanned for the tokens it
issued. No form of a token is there; each token's SHA-256 digest is."""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom

PREFIX = "srt_"


def _forms(token: str) -> list[bytes]:
    """The ways a token could have been written down: as text (UTF-8 and UTF-16), without
    its prefix, and as the 32 random bytes behind it."""
    secret = token.removeprefix(PREFIX)
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) == 32
    return [token.encode(), token.encode("utf-16-le"), secret.encode(), raw]


def _files_holding(home: Path, needle: bytes) -> list[str]:
    return sorted(
        str(p.relative_to(home))
        for p in home.rglob("*")
        if p.is_file() and needle in p.read_bytes()
    )


def _issue_every_kind(sr: Strongroom) -> list[str]:
    ws = sr.workspaces.create("Tokens", "ada@tokens.example").id
    project = sr.projects.create(ws, "P").id
    sr.files.put(ws, project, "cv.txt", io.BytesIO(b"a file, so the blob folder has one"))
    sr.access.set_password("ada@tokens.example", "correct horse battery")
    return [
        sr.access.create_token(ws, "owner").token,
        sr.access.create_token(ws, "viewer", expires_days=None).token,
        sr.access.create_operator_token().token,
        sr.access.login("ada@tokens.example", "correct horse battery").token,
    ]


def test_a_home_holds_token_digests_and_never_tokens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home)
    with open_strongroom(home) as sr:
        tokens = _issue_every_kind(sr)
        for token in tokens:  # they work
            sr.access.authenticate(token)
        assert (home / "data.db-wal").is_file()  # the scan covers what is still in the WAL
        _assert_only_digests(home, tokens)
    _assert_only_digests(home, tokens)  # and after the WAL is folded into the database


def _assert_only_digests(home: Path, tokens: list[str]) -> None:
    assert any((home / "blobs").rglob("*")), "the scan must cover a blob"
    for token in tokens:
        for form in _forms(token):
            assert _files_holding(home, form) == [], token[:8]
        digest = hashlib.sha256(token.encode()).digest()
        holding = _files_holding(home, digest)
        assert holding and all(name.startswith("data.db") for name in holding), holding
