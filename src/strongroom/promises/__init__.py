"""The trust page's promises, each a claim rendered from the live settings and a check run
against the running deployment (docs/trust-center.md).

- ``registry``: what a promise is (id, title, claim, check) and the standard ones;
- ``custody``, ``transport``, ``retention``: the claims and checks, by theme;
- ``tls_probe``: a TLS client that probes the live server at ``public_url``;
- ``service``: ``sr.promises``: run every check, keep the results, build the report;
- ``report``: the one report object that /trust and /trust.json both render.
"""
