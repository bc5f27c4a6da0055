"""Key material never reaches a repr, a log line or an error message."""

from __future__ import annotations

import base64
import io
import logging

import pytest

from strongroom import IntegrityFailure, StrongroomError
from strongroom.bootstrap import Strongroom
from strongroom.config import Settings
from strongroom.services.records import record_binding


def _forms(material: bytes) -> list[str]:
    return [
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode(),
        repr(material)[2:-1],
    ]


def test_no_key_material_in_logs_reprs_or_errors(
    sr: Strongroom,
    home: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # logs SQL parameters
    try:
        ws = sr.workspaces.create("Hygiene Ltd", "owner@hygiene.example")
        project = sr.projects.create(ws.id, "P")
        rid = sr.records.put(ws.id, project.id, "notes", {"n": 1}).id
        sr.files.put(ws.id, project.id, "f.txt", io.BytesIO(b"data"))
        sr.keys.rotate_workspace(ws.id)
        sr.keys.rotate_root()
        messages: list[str] = []
        for bad_call in (
            lambda: sr.records.get(ws.id, project.id, "rec_" + "a" * 26),
            lambda: sr.records.put(ws.id, project.id, "notes", {"x": float("nan")}).id,
            lambda: sr.ctx.keyring.kms.unwrap(1, b"\0" * 60, b"ctx", "label"),
        ):
            with pytest.raises(StrongroomError) as raised:
                bad_call()
            messages.append(str(raised.value) + repr(raised.value))
        forged = b"SR\x01\x01" + b"\0" * 60
        with pytest.raises(IntegrityFailure) as tampered:
            sr.ctx.open(project.id, record_binding(ws.id, project.id, rid), forged, "test")
        messages.append(str(tampered.value))

        keys = [
            sr.ctx.keyring.data_key(project.id),
            sr.ctx.keyring.data_key(ws.id),
            sr.ctx.keyring.workspace_key(ws.id)[1],
            sr.ctx.keyring.directory_key()[1],
        ]
        reprs = [repr(k) for k in keys] + [
            repr(sr),
            repr(sr.ctx.keyring),
            repr(sr.ctx.keyring.kms),
            repr(sr.ctx.keyring.cache),
        ]
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    materials = [k.reveal() for k in keys]
    if home.kms == "local":
        materials += [p.read_bytes() for p in (home.home / "kms").glob("root-*.key")]
    text = "\n".join([caplog.text, *messages, *reprs])
    assert "INSERT INTO records" in caplog.text  # SQL parameters really were logged
    for material in materials:
        for form in _forms(material):
            assert form not in text
