"""The subprocessor notices as an Atom 1.0 feed (RFC 4287).

Ids are ``urn:uuid:`` UUIDs (version 5) of the deployment's public address and the
notice's id: the same notice keeps the same id in every rendering, on every node.
Every text is written by ElementTree, which escapes it; entries' fields cannot hold
control characters (domain/subprocessors.py refuses them), which XML 1.0 forbids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from strongroom.domain.subprocessors import FIELDS
from strongroom.services.subprocessors import Notice

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"

_TITLES = {
    "add": "New subprocessor",
    "replace": "Subprocessor changed",
    "remove": "Subprocessor removed",
}


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stable_id(public_url: str, name: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{public_url}/subprocessors#{name}").urn


def notice_title(notice: Notice) -> str:
    name = notice.details.legal_name if notice.details else notice.subprocessor_id
    return f"{_TITLES[notice.kind.value]}: {name} (effective {notice.effective.isoformat()})"


def notice_text(notice: Notice) -> str:
    lines = [f"Effective {notice.effective.isoformat()} at 00:00 UTC."]
    if notice.details is not None:
        values = notice.details.as_json()
        lines += [f"{words.capitalize()}: {values[field]}" for field, words in FIELDS.items()]
    else:
        lines.append(f"Subprocessor {notice.subprocessor_id} leaves the list on that date.")
    return "\n".join(lines)


def feed(notices: Sequence[Notice], public_url: str, now: datetime) -> bytes:
    """The feed of ``notices`` (newest first)."""
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed")
    _text(root, "id", stable_id(public_url, "feed"))
    _text(root, "title", "Subprocessor notices")
    newest = max((n.published_at for n in notices), default=now)
    _text(root, "updated", _stamp(newest))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", public_url.removeprefix("https://"))
    _text(author, "uri", public_url)
    _link(root, f"{public_url}/subprocessors.atom", "self", MEDIA_TYPE)
    _link(root, f"{public_url}/subprocessors", "alternate", "text/html")
    for notice in notices:
        entry = ET.SubElement(root, f"{{{ATOM}}}entry")
        _text(entry, "id", stable_id(public_url, notice.id))
        _text(entry, "title", notice_title(notice))
        _text(entry, "updated", _stamp(notice.published_at))
        _text(entry, "published", _stamp(notice.published_at))
        _link(entry, f"{public_url}/subprocessors#{notice.id}", "alternate", "text/html")
        content = _text(entry, "content", notice_text(notice))
        content.set("type", "text")
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = value
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"href": href, "rel": rel, "type": media_type})
