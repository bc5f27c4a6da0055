"""Workspace export: a streamed ZIP with a manifest of every entry's SHA-256
(docs/export-format.md), its verification, and the API's export jobs."""
