"""Personal fields: which values of a record name a data subject, of what kind, and the
canonical form each kind is compared in. Pure: no keys, no IO.

A collection declares its personal fields by path: ``email`` (a top-level key),
``candidate.email`` (a key of a nested object), ``referrals[].email`` (that key in every
element of the array ``referrals``). Each field has a kind; the blind index is keyed per
kind (crypto/blind_index.py), so one lookup of an email finds it in every email field of
every project of a workspace.

The canonical forms are STORED (their digests are the index): changing one means a data
migration that reindexes every record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from strongroom.errors import InvalidInput


class PersonalKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    NAME = "name"
    IDENTIFIER = "identifier"  # any other id: a national id, a customer number


#: A declaration ``path`` or ``path:kind``, for schemas (parse_declaration checks it fully).
PERSONAL_FIELD_PATTERN = (
    r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?(\.[A-Za-z_][A-Za-z0-9_]*(\[\])?)*(:[a-z]+)?$"
)
#: One step of a path: a key, and whether its value is an array whose elements go on.
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,63})(\[\])?")
MAX_PATH_STEPS = 8
MAX_PATH_CHARS = 64
#: The version of the canonical forms and index keys below. A collection indexed under an
#: older one is reindexed (its records' entries rebuilt) before it is searched.
INDEX_VERSION = 2
_SPACE = re.compile(r"\s+")
_PHONE_KEEP = re.compile(r"[^0-9+]")


@dataclass(frozen=True)
class Step:
    key: str
    each: bool  # ``key[]``: the value is an array, the path goes on in every element


@dataclass(frozen=True)
class PersonalField:
    path: str
    kind: PersonalKind
    steps: tuple[Step, ...]

    @property
    def declaration(self) -> str:
        return f"{self.path}:{self.kind}"


def default_kind(path: str) -> PersonalKind:
    """The kind of a field declared without one: its last key names it (``email``,
    ``work_email``, ``phone``, ``mobile_phone``, ``name``, ``full_name``); anything else is
    an identifier. This keeps the meaning of declarations made before kinds existed."""
    last = path.rsplit(".", 1)[-1].removesuffix("[]").lower()
    for kind in (PersonalKind.EMAIL, PersonalKind.PHONE, PersonalKind.NAME):
        if last == kind.value or last.endswith("_" + kind.value):
            return kind
    return PersonalKind.IDENTIFIER


def parse_path(path: str) -> tuple[Step, ...]:
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInput(f"a personal field path has at most {MAX_PATH_CHARS} characters")
    parts = path.split(".")
    if len(parts) > MAX_PATH_STEPS:
        raise InvalidInput(f"a personal field path has at most {MAX_PATH_STEPS} steps")
    steps = []
    for part in parts:
        match = _STEP.fullmatch(part)
        if match is None:
            raise InvalidInput(
                f"invalid personal field {path[:80]!r}: each step is a key of letters, digits "
                "and '_' (not starting with a digit), '[]' after an array, steps joined by '.'"
            )
        steps.append(Step(match.group(1), match.group(2) is not None))
    return tuple(steps)


def parse_declaration(text: str) -> PersonalField:
    """``FIELD`` or ``FIELD:KIND`` → a personal field."""
    path, sep, kind_text = text.strip().partition(":")
    steps = parse_path(path)
    if not sep:
        return PersonalField(path, default_kind(path), steps)
    try:
        kind = PersonalKind(kind_text)
    except ValueError:
        names = ", ".join(k.value for k in PersonalKind)
        raise InvalidInput(
            f"unknown kind {kind_text[:32]!r} for personal field {path!r}; choose one of {names}"
        ) from None
    return PersonalField(path, kind, steps)


def parse_declarations(texts: list[str] | tuple[str, ...]) -> tuple[PersonalField, ...]:
    """Fields sorted by path; a path declared twice (even with one kind) is refused."""
    fields = [parse_declaration(t) for t in texts]
    seen: set[str] = set()
    for f in fields:
        if f.path in seen:
            raise InvalidInput(f"personal field {f.path!r} is declared twice")
        seen.add(f.path)
    return tuple(sorted(fields, key=lambda f: f.path))


# canonical forms -----------------------------------------------------------------------------
def normalise(kind: PersonalKind, value: str, *, region: str | None = None) -> str:
    """The form a value is compared (and indexed) in.

    - email: NFKC, whitespace collapsed and trimmed, lower-cased. Never case-folded:
      ``straße@…`` and ``strasse@…`` are two people.
    - phone: E.164 (``+442083661177``) when the number parses, with ``region`` (ISO 3166
      alpha-2) for numbers written without a country code; otherwise its digits and ``+``
      as written, so an unparseable value still matches itself.
    - name and identifier: NFKC, whitespace collapsed and trimmed, case-folded.
    """
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if kind is PersonalKind.EMAIL:
        return text.lower()
    if kind is PersonalKind.PHONE:
        return _phone(text, region)
    return text.casefold()


def _phone(text: str, region: str | None) -> str:
    # phonenumbers (a large library) is imported by the first phone number compared, not by
    # every process that loads the domain.
    import phonenumbers

    # Any script's decimal digits count as those digits.
    ascii_digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    try:
        number = phonenumbers.parse(ascii_digits, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return _PHONE_KEEP.sub("", ascii_digits)


# values in a document ------------------------------------------------------------------------
def _scalar(value: object) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


def values_at(document: dict[str, Any], field: PersonalField) -> Iterator[str]:
    """The indexable values of ``field`` in ``document``: strings and numbers at its path;
    a list at the end of the path gives its scalar items. Anything else is not a value of
    the field (an object where a string was declared is skipped, never indexed as text)."""
    for value in _at(document, field.steps):
        text = _scalar(value)
        if text is not None:
            yield text
        elif isinstance(value, list):
            for item in value:
                text = _scalar(item)
                if text is not None:
                    yield text


def _at(node: object, steps: tuple[Step, ...]) -> Iterator[object]:
    if not steps:
        yield node
        return
    if not isinstance(node, dict):
        return
    step, rest = steps[0], steps[1:]
    if step.key not in node:
        return
    value = node[step.key]
    if step.each:
        if isinstance(value, list):
            for item in value:
                yield from _at(item, rest)
    else:
        yield from _at(value, rest)


def replace(
    document: dict[str, Any],
    field: PersonalField,
    matches: Callable[[str], bool],
    new_value: str,
) -> int:
    """Set ``field`` to ``new_value`` in place wherever its current value ``matches`` (for
    a list value, the matching items); return how many values changed. Values of other
    people in the same record (another element of ``referrals[]``) stay as they were."""
    return _edit(document, field.steps, matches, new_value)


def _edit(
    node: object, steps: tuple[Step, ...], matches: Callable[[str], bool], new: str | None
) -> int:
    """Replace (``new`` given) or remove (``new`` None) the matching values at ``steps``."""
    if not isinstance(node, dict):
        return 0
    step, rest = steps[0], steps[1:]
    if step.key not in node:
        return 0
    value = node[step.key]
    if rest:
        if step.each:
            if not isinstance(value, list):
                return 0
            return sum(_edit(item, rest, matches, new) for item in value)
        return _edit(value, rest, matches, new)
    text = _scalar(value)
    if text is not None:
        if not matches(text):
            return 0
        if new is None:
            del node[step.key]
        else:
            node[step.key] = new
        return 1
    if isinstance(value, list):
        hits = [
            i for i, item in enumerate(value) if (t := _scalar(item)) is not None and matches(t)
        ]
        for i in reversed(hits):
            if new is None:
                del value[i]
            else:
                value[i] = new
        return len(hits)
    return 0


# erasing a person from a record -------------------------------------------------------------
def _is_list_of_values(field: PersonalField) -> bool:
    """``to[]``, ``aliases[]``: a list of values, each of which may be another person's."""
    return field.steps[-1].each


def describes_the_record(path: str) -> bool:
    """Whether a personal field names the record's own person: a top-level key holding one
    value (``email``, ``name``). A field of a nested object (``rep.email``), of an element
    of an array (``referrals[].email``) or a list of values (``to[]``) may name someone
    else: a record matched only there is not the subject's own."""
    steps = parse_path(path)
    return len(steps) == 1 and not steps[0].each


@dataclass(frozen=True)
class Redaction:
    """What :func:`redact_person` removed: how many values, and the values of file fields
    (file ids) it removed, whose files go with them."""

    values: int
    files: tuple[str, ...]


def redact_person(
    document: dict[str, Any],
    fields: tuple[PersonalField, ...],
    matches: Callable[[PersonalKind, str], bool],
    file_fields: tuple[str, ...] = (),
) -> Redaction:
    """Remove a person from ``document`` in place.

    Personal fields are grouped by the object that holds them, each object one person: the
    record's top-level fields (``email``, ``name``), a nested object's (``contact.email``
    and ``contact.name``, apart from ``rep.email``), each element of an array of objects
    (``referrals[].email`` and ``referrals[].name``). Where a field of a group that holds
    one value ``matches`` (by the field's kind), that person is the subject: every personal
    field and file field of the group is removed there, lists of values included. A list
    of values (``to[]``, ``mentions[]``) names several people: where only such a list
    matches, only the matching values go. Other people, and fields that are neither
    personal nor files, stay."""
    files = tuple(PersonalField(p, PersonalKind.IDENTIFIER, parse_path(p)) for p in file_fields)
    groups: dict[tuple[Step, ...], list[tuple[PersonalField, bool]]] = {}
    for f, is_file in [*((f, False) for f in fields), *((f, True) for f in files)]:
        groups.setdefault(f.steps[:-1], []).append((f, is_file))
    removed, named = 0, list[str]()
    for prefix, members in groups.items():
        holders = [document] if not prefix else list(_at(document, prefix))
        for holder in holders:
            if not isinstance(holder, dict):
                continue
            own = [(f, PersonalField(f.path, f.kind, f.steps[-1:])) for f, is_file in members]
            hit = any(
                matches(f.kind, v)
                for (f, is_file), (_f, inner) in zip(members, own, strict=True)
                if not is_file and not _is_list_of_values(f)
                for v in values_at(holder, inner)
            )
            for (f, is_file), (_f, inner) in zip(members, own, strict=True):
                if hit:
                    if is_file:
                        named += values_at(holder, inner)
                    removed += _remove(holder, inner.steps)
                elif not is_file and _is_list_of_values(f):
                    removed += _edit(holder, inner.steps, _of_kind(matches, f.kind), None)
    return Redaction(removed, tuple(dict.fromkeys(named)))


def _of_kind(
    matches: Callable[[PersonalKind, str], bool], kind: PersonalKind
) -> Callable[[str], bool]:
    return lambda value: matches(kind, value)


def _remove(node: object, steps: tuple[Step, ...]) -> int:
    """Delete the key at ``steps`` (in every element where the path crosses an array);
    return how many keys were deleted."""
    if not isinstance(node, dict) or steps[0].key not in node:
        return 0
    step, rest = steps[0], steps[1:]
    if not rest:
        del node[step.key]
        return 1
    value = node[step.key]
    if step.each:
        return sum(_remove(item, rest) for item in value) if isinstance(value, list) else 0
    return _remove(value, rest)
