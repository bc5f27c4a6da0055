"""Use cases: small verbs over units of work. Each write appends to the audit chain."""
