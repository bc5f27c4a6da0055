"""dsr_locate_ms and dsr_export_ratio: privacy requests (issue 12) on the embedded SQLite
default, against doing the same by decrypting what the workspace holds.

dsr_locate_ms: one workspace of 1,000,000 records in 10 projects and two collections
(``candidates`` 70%, ``referrals`` 30%), three personal fields declared in each (email,
name and a phone or a second email, some nested), loaded with ``sr.records.put_many`` in
batches of 10,000 and timed. One data subject is planted twice in every project, once per
collection, in a different email field each time and written in another case or with
spaces around it: 20 records. A deletion request naming her email is created and verified;
the value is the median wall time of ``sr.privacy.locate`` (blind index only, one audited
write transaction). The baseline finds the same records the plain way: every record of
every project and collection read through ``sr.records.list`` (pages of 1,000, each
decrypted and parsed), its declared email fields normalised and compared. Both must find
exactly the planted records.

dsr_export_ratio: a workspace holding one subject's 10,000 records (two collections, about
1 KiB of JSON each) and the 50 files their ``cv`` file field names (256 KiB each, random).
The value is the throughput of ``sr.privacy.export`` of a verified access request (MB/s of
plaintext: the records' JSON and the files' bytes), the baseline that of
``sr.exports.write`` of the whole workspace, the same data, in the same run. Both ZIPs
pass ``sr.exports.verify`` (untimed).

STRONGROOM_BENCH_DSR_RECORDS shrinks (or grows) the locate store for a quick look; the
default is the issue's 1,000,000. ``--quick`` shrinks everything.
"""

from __future__ import annotations

import functools
import gc
import io
import itertools
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.runner import MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import Strongroom, init_home, open_strongroom
from strongroom.domain.personal import PersonalKind, normalise, parse_declaration, values_at
from strongroom.errors import NotFound
from strongroom.services.records import MAX_BATCH

MB = 1_000_000
RECORDS_ENV = "STRONGROOM_BENCH_DSR_RECORDS"
LOCATE_TARGET_MS = 50.0
EXPORT_TARGET_RATIO = 0.70

#: The subject, as her request names her; the records hold her email in other spellings.
SUBJECT_EMAIL = "Ada.Lovelace@example.com"
SPELLINGS = (
    "ada.lovelace@example.com",
    "Ada.Lovelace@Example.com",
    " ADA.LOVELACE@EXAMPLE.COM ",
    "Ada.Lovelace@example.com",
)
#: Each collection's personal fields (``path:kind``), as ``collection declare`` takes them.
PERSONAL = {
    "candidates": ("email", "name", "contact.phone:phone"),
    "referrals": ("candidate.email:email", "candidate.name:name", "referrer.email:email"),
}
CANDIDATE_SHARE = 0.7  # of each project's records; the rest are referrals


# documents -------------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST = _words(
    "Amara Bilal Chen Dagny Emeka Farah Goran Hana Ines Jonas Kiri Lena Mateo Nadia Oskar "
    "Priya Quinn Rosa Sven Tariq Uma Vera Wen Ximena Yusuf Zofia"
)
_LAST = _words(
    "Okafor Lindqvist Haddad Novak Tanaka Ferreira Kowalski Mensah Schultz Ramirez Ivanova "
    "Nakamura Costa Virtanen Adeyemi Moreau Jensen Petrov Alvarez"
)
_CITIES = ("Berlin", "Lisbon", "Toronto", "Austin", "Nairobi", "Warsaw", "Osaka")
_STAGES = ("referred", "screening", "phone_screen", "onsite", "offer", "hired", "declined")
_WORDS = _words(
    "referral candidate interview offer engineer backend frontend design manager senior "
    "remote hybrid salary notice reference portfolio onsite recruiter pipeline python "
    "postgres kubernetes observability ownership"
)


def _person(rng: random.Random, n: int, role: str = "c") -> tuple[str, str]:
    """A name and an email no other person of the store has (``n`` is unique per record)."""
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    return f"{first} {last}", f"{first}.{last}.{n}{role}@Example.com"


def _note(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(_WORDS, k=words))


def candidate(rng: random.Random, n: int, email: str | None = None) -> dict[str, Any]:
    """A candidate (~450 B of JSON); ``email`` plants the subject."""
    name, own = _person(rng, n)
    return {
        "name": "Ada Lovelace" if email else name,
        "email": email or own,
        "contact": {
            "phone": f"+49 30 {rng.randrange(1_000_000, 9_999_999)}",
            "city": rng.choice(_CITIES),
        },
        "stage": rng.choice(_STAGES),
        "score": round(rng.random() * 10, 2),
        "skills": rng.sample(_WORDS, 4),
        "note": _note(rng, 30),
    }


def referral(
    rng: random.Random, n: int, email: str | None = None, as_referrer: bool = False
) -> dict[str, Any]:
    """A referral (~450 B of JSON): the subject, if planted, is its candidate or referrer."""
    name, own = _person(rng, n)
    referrer_name, referrer_email = _person(rng, n, "r")
    if email and as_referrer:
        referrer_name, referrer_email = "Ada Lovelace", email
    elif email:
        name, own = "Ada Lovelace", email
    return {
        "candidate": {"name": name, "email": own},
        "referrer": {
            "name": referrer_name,
            "email": referrer_email,
            "employee_id": f"E{rng.randrange(10_000, 99_999)}",
        },
        "requisition": f"REQ-{rng.randrange(1000, 9999)}",
        "stage": rng.choice(_STAGES),
        "note": _note(rng, 30),
    }


# dsr_locate_ms -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LocateSizes:
    records: int
    projects: int = 10
    locates: int = 21  # timed calls of sr.privacy.locate, half before the scans, half after
    scans: int = 1  # timed baseline scans (~25 s each at 1,000,000 records)

    @classmethod
    def of(cls, config: Config) -> LocateSizes:
        default = 20_000 if config.quick else 1_000_000
        records = int(os.environ.get(RECORDS_ENV, default))
        if records < 20:
            raise SystemExit(f"{RECORDS_ENV} must be at least 20 (two records a project)")
        return cls(records, locates=5 if config.quick else 21)


@dataclass
class LocateStore:
    sr: Strongroom
    workspace_id: str
    projects: list[str]
    planted: set[str] = field(default_factory=set)
    load_s: float = 0.0  # the whole load, making the documents included
    batch_s: list[float] = field(default_factory=list)  # each put_many call


def _batches(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, MAX_BATCH):
        yield start, min(MAX_BATCH, total - start)


def _load_project(store: LocateStore, p: int, per_project: int, counter: Iterator[int]) -> None:
    """One project's candidates and referrals, the subject planted once in each."""
    sr, ws, project = store.sr, store.workspace_id, store.projects[p]
    rng = random.Random(1000 + p)
    candidates = round(per_project * CANDIDATE_SHARE)
    for collection, count in (("candidates", candidates), ("referrals", per_project - candidates)):
        planted_at = rng.randrange(count)
        spelling = SPELLINGS[p % len(SPELLINGS)]
        for start, size in _batches(count):
            documents = []
            for i in range(start, start + size):
                n, email = next(counter), spelling if i == planted_at else None
                if collection == "candidates":
                    documents.append(candidate(rng, n, email))
                else:
                    documents.append(referral(rng, n, email, as_referrer=p % 2 == 1))
            t0 = time.perf_counter()
            record_ids = sr.records.put_many(ws, project, collection, documents)
            store.batch_s.append(time.perf_counter() - t0)
            if start <= planted_at < start + size:
                store.planted.add(record_ids[planted_at - start])


def _load(sr: Strongroom, sizes: LocateSizes) -> LocateStore:
    ws = sr.workspaces.create("Bench Privacy", "owner@example.com").id
    for collection, personal in PERSONAL.items():
        sr.records.declare_collection(ws, collection, personal)
    projects = [sr.projects.create(ws, f"Hiring {p + 1}").id for p in range(sizes.projects)]
    store = LocateStore(sr, ws, projects)
    counter = itertools.count()
    t0 = time.perf_counter()
    for p in range(sizes.projects):
        share = sizes.records // sizes.projects + (p < sizes.records % sizes.projects)
        _load_project(store, p, share, counter)
    store.load_s = time.perf_counter() - t0
    return store


def _timed_locate(sr: Strongroom, ws: str, request_id: str) -> tuple[float, set[str]]:
    t0 = time.perf_counter()
    matches = sr.privacy.locate(ws, request_id)
    return time.perf_counter() - t0, {m.record_id for m in matches}


def scan_for_email(sr: Strongroom, ws: str, projects: list[str], email: str) -> set[str]:
    """The baseline: every record decrypted through the listing API, its declared email
    fields normalised and compared with the subject's email."""
    wanted = normalise(PersonalKind.EMAIL, email)
    email_fields = {
        collection: [f for f in map(parse_declaration, personal) if f.kind is PersonalKind.EMAIL]
        for collection, personal in PERSONAL.items()
    }
    found: set[str] = set()
    for project in projects:
        # One collection at a time: a page of one collection is an index range scan
        # (project, collection, id); all collections at once would be a larger sort.
        for collection, fields in email_fields.items():
            cursor = None
            while True:
                page = sr.records.list(ws, project, collection, cursor, limit=1000)
                for record in page.items:
                    if any(
                        normalise(PersonalKind.EMAIL, value) == wanted
                        for f in fields
                        for value in values_at(record.document, f)
                    ):
                        found.add(record.id)
                cursor = page.next_cursor
                if cursor is None:
                    break
    return found


def run_locate(config: Config, wanted: frozenset[str]) -> list[Result]:
    return [measure_locate(config.work, LocateSizes.of(config))]


def measure_locate(work: Path, sizes: LocateSizes) -> Result:
    located: list[float] = []
    scanned: list[float] = []
    with work_dir(work, "privacy-locate-") as folder:
        home = init_home(folder / "home")
        with open_strongroom(settings=home) as sr:
            store = _load(sr, sizes)
            ws = store.workspace_id
            request = sr.privacy.create(
                ws, type="deletion", law="gdpr", identifiers=[("email", SUBJECT_EMAIL)]
            )
            sr.privacy.verify(ws, request.id, method="reply from her address", by="bench")
            for _ in range(2):  # warm-up: statement cache, the workspace's key
                _timed_locate(sr, ws, request.id)

            def locates(count: int) -> None:
                gc.collect()
                for _ in range(count):
                    elapsed, found = _timed_locate(sr, ws, request.id)
                    _same(found, store.planted, "sr.privacy.locate")
                    located.append(elapsed)

            locates(sizes.locates // 2)  # half before the scans, half after: both page caches
            for _ in range(sizes.scans):
                gc.collect()
                t0 = time.perf_counter()
                found = scan_for_email(sr, ws, store.projects, SUBJECT_EMAIL)
                scanned.append(time.perf_counter() - t0)
                _same(found, store.planted, "the decrypting scan")
            locates(sizes.locates - sizes.locates // 2)
    value, baseline = median(located) * 1000, median(scanned) * 1000
    put_s = sum(store.batch_s)
    notes = (
        f"{sizes.records:,} records ({CANDIDATE_SHARE:.0%} candidates, the rest referrals, "
        f"~450 B of JSON each; personal fields {'; '.join(', '.join(p) for p in PERSONAL.values())}"
        f") in {sizes.projects} projects of one workspace, {len(store.planted)} of them the "
        f"subject's (her email in 4 spellings, in 3 different fields). Load: "
        f"sr.records.put_many in batches of {MAX_BATCH:,}: {put_s:.1f} s in put_many "
        f"({sizes.records / put_s:,.0f} records/s; first batch {store.batch_s[0]:.2f} s, "
        f"median {median(store.batch_s):.2f} s, last {store.batch_s[-1]:.2f} s), "
        f"{store.load_s:.1f} s with making the documents. Value: sr.privacy.locate on a "
        f"verified deletion request (blind index; one write transaction with its audit "
        f"event), median of {len(located)} calls. Baseline: every record read through "
        f"sr.records.list (pages of 1,000 per project and collection, decrypted and parsed) "
        f"and its email fields normalised and compared, median of {len(scanned)} scan(s). "
        f"Both find exactly the planted records. baseline / value = {baseline / value:,.0f}x."
    )
    return Result(
        "dsr_locate_ms", value, baseline, "ms", Target("value", "<=", LOCATE_TARGET_MS), notes
    )


def _same(found: set[str], planted: set[str], what: str) -> None:
    if found != planted:
        raise AssertionError(
            f"{what} found {len(found)} records, {len(found & planted)} of the "
            f"{len(planted)} planted"
        )


# dsr_export_ratio --------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportSizes:
    records: int  # the subject's, in two collections
    files: int
    file_bytes: int

    @classmethod
    def of(cls, config: Config) -> ExportSizes:
        if config.quick:
            return cls(records=1_000, files=5, file_bytes=64 * 1024)
        return cls(records=10_000, files=50, file_bytes=256 * 1024)


@dataclass
class SubjectWorkspace:
    workspace_id: str
    request_id: str
    data_bytes: int  # the records' canonical JSON and the files' bytes


def _application(rng: random.Random, i: int, cv: str | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "email": SPELLINGS[i % len(SPELLINGS)],
        "name": "Ada Lovelace",
        "requisition": f"REQ-{rng.randrange(1000, 9999)}",
        "stage": rng.choice(_STAGES),
        "score": round(rng.random() * 10, 2),
        "note": _note(rng, 110),
    }
    if cv is not None:
        document["cv"] = cv
    return document


def _message(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "from": {"name": "Ada Lovelace", "email": SPELLINGS[i % len(SPELLINGS)]},
        "subject": _note(rng, 6),
        "body": _note(rng, 110),
    }


def _canonical_size(document: dict[str, Any]) -> int:
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return len(text.encode())


def _prepare_subject(sr: Strongroom, sizes: ExportSizes) -> SubjectWorkspace:
    """Half the records are applications (the first ``files`` name a CV file each), half
    messages from her; nothing else is in the workspace."""
    rng = random.Random(12)
    ws = sr.workspaces.create("Bench Subject Export", "owner@example.com").id
    sr.records.declare_collection(ws, "applications", ["email", "name"], file_fields=["cv"])
    sr.records.declare_collection(ws, "messages", ["from.email:email", "from.name:name"])
    project = sr.projects.create(ws, "Hiring").id
    total = 0
    cvs: list[str] = []
    for n in range(sizes.files):
        data = rng.randbytes(sizes.file_bytes)
        cvs.append(sr.files.put(ws, project, f"cv-{n}.pdf", io.BytesIO(data)).id)
        total += len(data)
    half = sizes.records // 2
    applications = [_application(rng, i, cvs[i] if i < len(cvs) else None) for i in range(half)]
    messages = [_message(rng, i) for i in range(sizes.records - half)]
    for collection, documents in (("applications", applications), ("messages", messages)):
        for start, size in _batches(len(documents)):
            sr.records.put_many(ws, project, collection, documents[start : start + size])
        total += sum(_canonical_size(d) for d in documents)
    request = sr.privacy.create(
        ws, type="access", law="gdpr", identifiers=[("email", SUBJECT_EMAIL)]
    )
    sr.privacy.verify(ws, request.id, method="reply from her address", by="bench")
    return SubjectWorkspace(ws, request.id, total)


def _subject_export(
    sr: Strongroom, subject: SubjectWorkspace, out: Path, sizes: ExportSizes
) -> float:
    t0 = time.perf_counter()
    summary = sr.privacy.export(subject.workspace_id, subject.request_id, out)
    elapsed = time.perf_counter() - t0
    counts = summary.as_json()["counts"]
    if (counts["records"], counts["files"]) != (sizes.records, sizes.files):
        raise AssertionError(f"the subject's package holds {counts}")
    verified = sr.exports.verify(out)
    if verified.format != "strongroom-subject-export":
        raise AssertionError(f"export verify read a {verified.format}")
    out.unlink()
    return elapsed


def _workspace_export(sr: Strongroom, subject: SubjectWorkspace, out: Path) -> float:
    t0 = time.perf_counter()
    sr.exports.write(subject.workspace_id, out)
    elapsed = time.perf_counter() - t0
    sr.exports.verify(out)
    out.unlink()
    return elapsed


def run_export(config: Config, wanted: frozenset[str]) -> list[Result]:
    return [measure_export(config.work, ExportSizes.of(config), config.file_reps)]


def measure_export(work: Path, sizes: ExportSizes, reps: int) -> Result:
    ours: list[float] = []
    theirs: list[float] = []
    with work_dir(work, "privacy-export-") as folder:
        home = init_home(folder / "home")
        with open_strongroom(settings=home) as sr:
            subject = _prepare_subject(sr, sizes)
            out = folder / "out.zip"
            _workspace_export(sr, subject, out)  # warm-up: blobs in the page cache, caches
            _subject_export(sr, subject, out, sizes)
            for rep in range(reps):
                gc.collect()
                if alternate(rep):
                    ours.append(_subject_export(sr, subject, out, sizes))
                    theirs.append(_workspace_export(sr, subject, out))
                else:
                    theirs.append(_workspace_export(sr, subject, out))
                    ours.append(_subject_export(sr, subject, out, sizes))
    mib = subject.data_bytes / MIB
    return Result(
        "dsr_export_ratio",
        median(subject.data_bytes / MB / s for s in ours),
        median(subject.data_bytes / MB / s for s in theirs),
        "MB/s",
        Target("ratio", ">=", EXPORT_TARGET_RATIO),
        f"A workspace holding only one subject's data: {sizes.records:,} records (~1 KiB "
        f"of JSON each; half applications with email/name personal and a 'cv' file field, "
        f"half messages with from.email/from.name) and the {sizes.files} files of "
        f"{sizes.file_bytes // 1024} KiB the applications name, {mib:.1f} MiB of plaintext "
        f"in all. Value: sr.privacy.export of a verified access request to a path "
        f"(blind-index lookup, the records read for their file fields, then JSON Lines + "
        f"CSV, the files, SHA-256 per entry, manifest, fsync + rename). Baseline: "
        f"sr.exports.write of the workspace, the same data. MB/s of plaintext, median of "
        f"{reps} runs each, alternating; both ZIPs pass export verify (untimed).",
    )


# dsr_erase_ms ------------------------------------------------------------------------------
ERASE_PERSONAL = ("email", "name", "refs[].email:email", "refs[].name:name")


@dataclass(frozen=True)
class EraseSizes:
    subject_records: int = 1_000  # per repetition, over every project
    referral_share: float = 0.2  # of those, records where she is only a referral (redacted)
    others_per_project: int = 2_000
    projects: int = 10
    reps: int = 3

    @classmethod
    def of(cls, config: Config) -> EraseSizes:
        if config.quick:
            return cls(subject_records=40, others_per_project=100, projects=4, reps=1)
        return cls()


def _erase_documents(rng: random.Random, sizes: EraseSizes, rep: int, p: int) -> list[Any]:
    """One project's share of repetition ``rep``: the subject's own records, records where
    she is a referral, and records (deleted as the baseline) of someone else."""
    email = f"subject{rep}@example.com"
    share = sizes.subject_records // sizes.projects
    referrals = int(share * sizes.referral_share)
    docs: list[Any] = []
    for i in range(share - referrals):
        docs.append({"email": email, "name": f"Subject {rep}", "note": _note(rng, 40), "i": i})
    for i in range(referrals):
        other, name = _person(rng, rep * 100_000 + p * 1_000 + i)
        docs.append(
            {
                "email": other,
                "name": name,
                "refs": [{"email": email, "name": f"Subject {rep}"}, {"email": "x@example.com"}],
                "note": _note(rng, 40),
            }
        )
    return docs


def _erase(sr: Strongroom, ws: str, request_id: str) -> None:
    status = sr.privacy.erase(ws, request_id)
    if status.state != "done":
        raise AssertionError(f"the erasure is {status.state}: {status.error}")


def _trash(sr: Strongroom, ws: str, records: list[tuple[str, str]]) -> None:
    for project, record_id in records:
        sr.records.delete(ws, project, record_id)


def run_erase(config: Config, wanted: frozenset[str]) -> list[Result]:
    return [measure_erase(config.work, EraseSizes.of(config))]


def measure_erase(work: Path, sizes: EraseSizes) -> Result:
    """Value: ``sr.privacy.erase`` of a verified deletion request, from the call to its
    return with the erasure done (no read or locate finds her). Baseline: deleting as many
    records to the trash, one ``sr.records.delete`` each, in the same store."""
    erased_s: list[float] = []
    trashed_s: list[float] = []
    rng = random.Random(2026)
    with work_dir(work, "privacy-erase-") as folder:
        home = init_home(folder / "home")
        with open_strongroom(settings=home) as sr:
            ws = sr.workspaces.create("Bench erasure", "owner@example.com").id
            sr.records.declare_collection(ws, "people", list(ERASE_PERSONAL))
            projects = [sr.projects.create(ws, f"P{p}").id for p in range(sizes.projects)]
            victims: list[list[tuple[str, str]]] = [[] for _ in range(sizes.reps)]
            for p, project in enumerate(projects):
                count = sizes.others_per_project
                others = [candidate(rng, p * 1_000_000 + i) for i in range(count)]
                sr.records.put_many(ws, project, "people", others)
                for rep in range(sizes.reps):
                    planted = _erase_documents(rng, sizes, rep, p)
                    sr.records.put_many(ws, project, "people", planted)
                    spare = [candidate(rng, 9_000_000 + i) for i in range(len(planted))]
                    ids_ = sr.records.put_many(ws, project, "people", spare)
                    victims[rep] += [(project, r) for r in ids_]
            for rep in range(sizes.reps):
                email = f"subject{rep}@example.com"
                request = sr.privacy.create(
                    ws, type="deletion", law="gdpr", identifiers=[("email", email)]
                )
                sr.privacy.verify(ws, request.id, method="reply from her address", by="bench")
                located = sr.privacy.locate(ws, request.id)
                if len(located) != sizes.subject_records // sizes.projects * sizes.projects:
                    raise AssertionError(f"planted {sizes.subject_records}, located {len(located)}")

                erase = functools.partial(_erase, sr, ws, request.id)
                trash = functools.partial(_trash, sr, ws, victims[rep])
                order = [(erase, erased_s), (trash, trashed_s)]
                for action, times in order if alternate(rep) else order[::-1]:
                    gc.collect()
                    t0 = time.perf_counter()
                    action()
                    times.append(time.perf_counter() - t0)
                if sr.privacy.locate(ws, request.id) or sr.records.find(ws, "email", email):
                    raise AssertionError("the subject is still found after her erasure")
                for m in located[:5]:
                    try:
                        document = sr.records.get(ws, m.project_id, m.record_id).document
                    except NotFound:  # erased
                        continue
                    if email in json.dumps(document):
                        raise AssertionError("a redacted record still names her")
    referrals = int(sizes.subject_records // sizes.projects * sizes.referral_share)
    return Result(
        "dsr_erase_ms",
        median(erased_s) * 1000,
        median(trashed_s) * 1000,
        "ms",
        None,
        f"One workspace of {sizes.projects} projects with {sizes.others_per_project:,} other "
        f"people's records each; a subject in {sizes.subject_records:,} records across them "
        f"({referrals * sizes.projects} of them another person's record where she is only in "
        f"refs[], so redacted; the rest her own, erased whole). Value: sr.privacy.erase of a "
        f"verified deletion request (SQLite), from the call to its return with the erasure "
        f"done and certified (locate, mark, redact, shred, sign, ledger, audit); afterwards "
        f"no locate, find or read finds her (checked, untimed). Baseline: as many other "
        f"records moved to the trash one sr.records.delete each (the ordinary deletion). "
        f"Median of {sizes.reps} repetitions, a new subject each, alternating which goes "
        f"first.",
    )
