"""Tables of the data store. Every customer-typed value is a sealed (encrypted) blob;
ids, sizes, states, collection names and timestamps are plain."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from strongroom.storage.types import UtcDateTime

metadata = MetaData()

ID = 40

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email_sealed", LargeBinary, nullable=False),
    Column("email_index", LargeBinary(16), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    # argon2id (PHC string); NULL until a password is set.
    Column("password_hash", Text, nullable=True),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The plan: when the trial ends (trial state), when the current state began.
    Column("trial_ends_at", UtcDateTime, nullable=True),
    Column("state_since", UtcDateTime, nullable=True),
)

members = Table(
    "members",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("user_id", String(ID), ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False, index=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("trash_id", String(ID), nullable=True),  # the trash entry that took it
)

collections = Table(
    "collections",
    metadata,
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), primary_key=True),
    Column("name", String(64), primary_key=True),
    # JSON list of the personal fields, "path:kind" (field names are schema, not data;
    # a bare name, as stored before kinds, has the kind its name implies).
    Column("personal_fields", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # JSON list of the paths whose values name files of the record's project.
    Column("file_fields", Text, nullable=False, server_default="[]"),
    # domain.personal.INDEX_VERSION its records' index entries were made under.
    Column("index_version", Integer, nullable=False, server_default="1"),
)

records = Table(
    "records",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), ForeignKey("projects.id"), nullable=False),
    Column("collection", String(64), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("trash_id", String(ID), nullable=True),
    Index("ix_records_project_collection", "project_id", "collection", "id"),
)

record_index = Table(
    "record_index",
    metadata,
    Column("record_id", String(ID), ForeignKey("records.id"), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("digest", LargeBinary(16), primary_key=True),
    Column("workspace_id", String(ID), nullable=False),
    # The field's kind: digests are keyed per kind, so one lookup covers every field of it.
    Column("kind", String(16), nullable=False, server_default=""),
    Index("ix_record_index_lookup", "workspace_id", "field", "digest"),
    Index("ix_record_index_kind", "workspace_id", "kind", "digest"),
)

files = Table(
    "files",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), ForeignKey("projects.id"), nullable=False, index=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("blob_key", String(128), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("trash_id", String(ID), nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("workspace_id", String(ID), nullable=True, index=True),
    # JSON object of ids and counts; never customer plaintext.
    Column("subject", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The event's place among its workspace's events (1, 2, 3, …), what a tenant is shown
    # instead of the global seq, whose gaps count other tenants' events. Not hashed: it
    # follows from the chain's order (migration 0004 numbered existing events that way).
    Column("workspace_position", BigInteger, nullable=True),
    Index("ux_audit_events_workspace_position", "workspace_id", "workspace_position", unique=True),
)

# One row (id=1): the chain's head, locked by every append so appends serialise.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# API tokens, member sessions and operator tokens: only a SHA-256 of the secret is kept.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("secret_hash", LargeBinary(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=True, index=True),
    Column("role", String(16), nullable=True),
    Column("user_id", String(ID), ForeignKey("users.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

# Console (browser) sessions: the session id only as a SHA-256; the data names the
# member session token (by id) the browser signed in with, and the workspace it picked.
browser_sessions = Table(
    "browser_sessions",
    metadata,
    Column("id_hash", LargeBinary(32), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# Failed logins by email digest, for rate limiting across every server process.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email_index", LargeBinary(16), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
)

# Failed sign-ins by client address digest, whatever the email: one client spraying many
# emails is stopped as one email's guesses are, across every server process.
address_failures = Table(
    "address_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address_index", LargeBinary(16), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False, index=True),  # pruned by time
)

# Lifecycle ---------------------------------------------------------------------------------
# A deletion a user may undo until restore_until: one project, record or file.
trash_entries = Table(
    "trash_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), nullable=False),
    Column("kind", String(16), nullable=False),  # project | record | file
    Column("subject_id", String(ID), nullable=False),
    Column("deleted_by", String(128), nullable=False),
    Column("deleted_at", UtcDateTime, nullable=False),
    Column("restore_until", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # trashed | restored | purging | purged
    Column("closed_at", UtcDateTime, nullable=True),
    Index("ix_trash_entries_workspace_state", "workspace_id", "state", "id"),
)

# Durable deadlines: due work the worker claims with a lease and performs in steps.
deadlines = Table(
    "deadlines",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("action", String(32), nullable=False),
    Column("workspace_id", String(ID), nullable=False, index=True),
    Column("subject_id", String(ID), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),  # pending | done | cancelled
    Column("step", String(32), nullable=False),
    Column("progress", Text, nullable=False),  # JSON: counts, key ids; never plaintext
    Column("attempts", Integer, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Index("ix_deadlines_due", "state", "due_at"),
)

# Legal holds: while one is set (cleared_at NULL), nothing it covers is purged.
holds = Table(
    "holds",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), nullable=False, index=True),
    Column("project_id", String(ID), nullable=True),  # NULL: the whole workspace
    Column("reason_sealed", LargeBinary, nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    Column("cleared_by", String(128), nullable=True),
    Column("cleared_at", UtcDateTime, nullable=True),
    Column("clear_reason_sealed", LargeBinary, nullable=True),
)

# Billing events, kept by event id: a repeated id changes nothing.
billing_events = Table(
    "billing_events",
    metadata,
    Column("event_id", String(128), primary_key=True),
    Column("workspace_id", String(ID), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("trial_days", Integer, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("state_after", String(16), nullable=False),
)

# Export jobs (API): the artifact is a sealed blob that expires.
export_jobs = Table(
    "export_jobs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), nullable=False, index=True),
    Column("requested_by", String(128), nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done | failed | expired
    Column("created_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("entries_done", Integer, nullable=False),
    Column("entries_total", Integer, nullable=True),
    Column("blob_key", String(128), nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("sha256", String(64), nullable=True),
    Column("error", Text, nullable=True),
)

# Privacy requests (GDPR, CCPA): what a data subject asked, on the law's clock. The subject
# is stored sealed (identifiers, notes) and as blind-index digests per kind; the row itself
# (type, law, dates, outcome) is the record of requests and outlives the subject's data.
privacy_requests = Table(
    "privacy_requests",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # access | portability | correction | ...
    Column("law", String(8), nullable=False),  # gdpr | ccpa | other
    Column("state", String(16), nullable=False),  # received | verified | in_progress | ...
    Column("channel", String(64), nullable=False),  # how the request was made
    Column("time_zone", String(64), nullable=False),  # the dates below are dates there
    Column("received_at", UtcDateTime, nullable=False),
    Column("received_on", Date, nullable=False),
    Column("confirm_by", Date, nullable=True),  # CCPA: confirm receipt by
    Column("original_due_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("extended_at", UtcDateTime, nullable=True),
    Column("extension_reason_sealed", LargeBinary, nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    Column("verified_by_sealed", LargeBinary, nullable=True),
    Column("verification_sealed", LargeBinary, nullable=True),  # how identity was checked
    Column("closed_at", UtcDateTime, nullable=True),
    Column("outcome_reason_sealed", LargeBinary, nullable=True),  # basis of a refusal
    Column("subject_sealed", LargeBinary, nullable=True),  # identifiers and notes; erasable
    Column("created_by", String(128), nullable=False),
    Index("ix_privacy_requests_workspace_due", "workspace_id", "state", "due_on"),
    Index("ix_privacy_requests_due", "state", "due_on"),  # what falls due, deployment-wide
)

# The subject's identifiers as blind-index digests (per kind), to find them in records.
privacy_subjects = Table(
    "privacy_subjects",
    metadata,
    Column("request_id", String(ID), ForeignKey("privacy_requests.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("digest", LargeBinary(32), primary_key=True),
)

# Records restricted by a privacy request (GDPR Art. 18), until lifted. No foreign keys:
# a purge deletes a restricted record (and its rows here) like any other.
record_restrictions = Table(
    "record_restrictions",
    metadata,
    Column("record_id", String(ID), primary_key=True),
    Column("request_id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), nullable=False),
    Column("restricted_at", UtcDateTime, nullable=False),
    Column("lifted_at", UtcDateTime, nullable=True),
    Index("ix_record_restrictions_request", "request_id"),
)

# Request inbox (support, security, privacy) ------------------------------------------------
# A request from the public: who and what sealed under the directory key; the client's
# address only as a keyed digest (counted for the intake's rate limit); the first-response
# clock as plain times.
inbox_requests = Table(
    "inbox_requests",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(16), nullable=False),  # support | security | privacy
    Column("email_sealed", LargeBinary, nullable=False),
    Column("subject_sealed", LargeBinary, nullable=False),
    Column("body_sealed", LargeBinary, nullable=False),
    Column("address_index", LargeBinary(16), nullable=True),  # None: not from the network
    Column("received_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("assigned_to", String(128), nullable=True),  # an operator token's id
    Column("answered_at", UtcDateTime, nullable=True),  # the first reply the SMTP server took
    Column("warned_at", UtcDateTime, nullable=True),
    Column("breached_at", UtcDateTime, nullable=True),
    Index("ix_inbox_requests_open", "answered_at", "due_at"),
    Index("ix_inbox_requests_address", "address_index", "received_at"),
)

# What happened to a request: replies (sent or not), notes, assignments. Text sealed.
inbox_entries = Table(
    "inbox_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("request_id", String(ID), ForeignKey("inbox_requests.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # reply | note | assign
    Column("author", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("text_sealed", LargeBinary, nullable=True),  # a reply's or a note's text
    Column("detail", String(255), nullable=True),  # the assignee; why a reply was not sent
    Column("message_id", String(255), nullable=True),  # a reply the SMTP server took
    Column("position", Integer, nullable=False),  # 1, 2, … within its request
    UniqueConstraint("request_id", "position", name="uq_inbox_entries_position"),
)

# Promise checks (the trust center): what each check of a promise found, kept for a set
# number of days. The evidence is one line about the deployment, never customer data.
promise_checks = Table(
    "promise_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("promise_id", String(64), nullable=False),
    Column("checked_at", UtcDateTime, nullable=False),
    Column("holds", Boolean, nullable=False),
    Column("evidence", Text, nullable=False),
    Index("ix_promise_checks_promise_checked", "promise_id", "checked_at"),
    Index("ix_promise_checks_checked", "checked_at"),
)

# Who runs each chore on a period (a scheduled backup, a restore drill, a shred epoch) now:
# one worker at a time, however many share the data store (lifecycle/worker.py).
chore_leases = Table(
    "chore_leases",
    metadata,
    Column("chore", String(32), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("lease_until", UtcDateTime, nullable=False),
)

# Agreements (the DPA and the SCCs): published versions are immutable (the 0012 migration's
# triggers refuse UPDATE and DELETE); acceptances carry a signed receipt, sealed under the
# directory key (it names the owner, their client address and user agent).
agreement_versions = Table(
    "agreement_versions",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("kind", String(8), nullable=False),  # dpa | scc
    Column("version", String(64), nullable=False),
    Column("body", Text, nullable=False),  # public text, in clear on purpose
    Column("sha256", String(64), nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("scc_version", String(64), nullable=True),  # the DPA's incorporated SCC version
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(128), nullable=False),
    UniqueConstraint("kind", "version", name="uq_agreement_versions_kind_version"),
)

agreement_acceptances = Table(
    "agreement_acceptances",
    metadata,
    Column("id", String(ID), primary_key=True),
    # No foreign key to workspaces: the record of acceptance outlives a purged workspace.
    Column("workspace_id", String(ID), nullable=False),
    Column("version_id", String(ID), ForeignKey("agreement_versions.id"), nullable=False),
    Column("sha256", String(64), nullable=False),  # the accepted text's hash
    Column("user_id", String(ID), nullable=True),  # None: accepted with an API token
    Column("accepted_at", UtcDateTime, nullable=False),
    Column("receipt_sealed", LargeBinary, nullable=False),
    Column("receipt_sha256", String(64), nullable=False),
    Index("ix_agreement_acceptances_workspace", "workspace_id", "accepted_at"),
    # Two owners accepting at once: one acceptance per workspace and version.
    UniqueConstraint("workspace_id", "version_id", name="uq_agreement_acceptances_once"),
)

# Subprocessors (issue 14, item 3) -----------------------------------------------------------
# Every change of the public list: what an operator typed is published as is (the list is
# public), so it is plain; effective_on is a date (the change is in force from its 00:00 UTC).
subprocessor_notices = Table(
    "subprocessor_notices",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("subprocessor_id", String(ID), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # add | replace | remove
    Column("details", Text, nullable=True),  # JSON of the entry; NULL for a removal
    Column("effective_on", Date, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(128), nullable=False),
    # the order of publication, 1, 2, … (given under a lock): ties of one date break by it
    Column("seq", Integer, nullable=False, unique=True),
)

# A workspace owner's objection to a notice: the reason sealed under the workspace's data
# key (no foreign key to workspaces: a purge deletes the workspace; its reason becomes
# unreadable with its key, the fact of the objection stays for the operator's record).
subprocessor_objections = Table(
    "subprocessor_objections",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("notice_id", String(ID), ForeignKey("subprocessor_notices.id"), nullable=False),
    Column("workspace_id", String(ID), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("reason_sealed", LargeBinary, nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ux_subprocessor_objections_notice_ws", "notice_id", "workspace_id", unique=True),
)

# People mailed each notice: addresses sealed under the directory key, found by blind index
# (the same digest as users.email_index, so an owner and a subscriber of one address meet).
subprocessor_subscribers = Table(
    "subprocessor_subscribers",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("email_sealed", LargeBinary, nullable=False),
    Column("email_index", LargeBinary(16), nullable=False, unique=True),
    # pending | confirmed | unsubscribed | dead (a public address that failed for good)
    Column("state", String(16), nullable=False),
    Column("source", String(16), nullable=False),  # public | owner
    Column("created_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    # an owner's opt-out: cleared only by the owner (console, or a confirmation link)
    Column("opted_out", Boolean, nullable=False),
    # a confirmation mail asked for and not yet sent (the worker sends it)
    Column("confirm_queued_at", UtcDateTime, nullable=True),
)

# One notice to one subscriber: pending until sent; failed ones are retried with a bound.
subprocessor_deliveries = Table(
    "subprocessor_deliveries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("notice_id", String(ID), ForeignKey("subprocessor_notices.id"), nullable=False),
    Column("subscriber_id", String(ID), ForeignKey("subprocessor_subscribers.id"), nullable=False),
    # pending | sending (claimed by a worker) | sent | failed | not-sent | skipped
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("message_id", String(255), nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("failing_since", UtcDateTime, nullable=True),
    Index("ux_subprocessor_deliveries_pair", "notice_id", "subscriber_id", unique=True),
    Index("ix_subprocessor_deliveries_state", "state"),
)

# Subscriptions asked for on the public page, by client address digest (a rate limit
# shared by every server process).
subscribe_attempts = Table(
    "subscribe_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address_index", LargeBinary(16), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False, index=True),
)

# Staff and break-glass grants (issue 17: docs/break-glass.md) -------------------------------
# Operators are the SaaS's staff, as people: name and email sealed under the directory key,
# the email found by the directory's blind index (one operator per email).
operators = Table(
    "operators",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name_sealed", LargeBinary, nullable=False),
    Column("email_sealed", LargeBinary, nullable=False),
    Column("email_index", LargeBinary(16), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# Confidentiality agreements an operator signed: the latest is their current one.
operator_agreements = Table(
    "operator_agreements",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("operator_id", String(ID), ForeignKey("operators.id"), nullable=False),
    Column("version", String(64), nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("ix_operator_agreements_operator", "operator_id", "signed_on"),
)

# An operator token issued to a named operator (tokens issued before have none).
operator_tokens = Table(
    "operator_tokens",
    metadata,
    Column("token_id", String(ID), ForeignKey("api_tokens.id"), primary_key=True),
    Column("operator_id", String(ID), ForeignKey("operators.id"), nullable=False),
)

# A break-glass grant: the reason and ticket sealed under the workspace key (the customer
# reads them; a purged workspace's are shredded with it). Its token is an api_tokens row
# of kind "grant" (token_id), expiring with the grant and revoked with it.
grants = Table(
    "grants",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("workspace_id", String(ID), ForeignKey("workspaces.id"), nullable=False),
    Column("project_id", String(ID), nullable=True),  # None: the whole workspace
    Column("operator_id", String(ID), ForeignKey("operators.id"), nullable=False),
    Column("reason_sealed", LargeBinary, nullable=False),
    Column("ticket_sealed", LargeBinary, nullable=False),
    Column("hours", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # pending | approved | refused | revoked
    Column("emergency", Boolean, nullable=False),  # self-approved by the operator
    Column("requested_at", UtcDateTime, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),  # set at approval
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Column("token_id", String(ID), nullable=True, unique=True),
    Index("ix_grants_workspace", "workspace_id", "requested_at"),
)

# Every request a grant's token made that the role check let through (also in the audit).
grant_reads = Table(
    "grant_reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("grant_id", String(ID), ForeignKey("grants.id"), nullable=False),
    Column("workspace_id", String(ID), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("what", String(255), nullable=False),  # method and path: ids only
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_grant_reads_grant", "grant_id", "id"),
)
