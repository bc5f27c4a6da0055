"""What operators watch: Prometheus metrics and the structured log.

* ``logs``: the log's two formats (one JSON object a line, or one readable line), the
  request id every line of a request carries, and the redaction of email addresses and
  tokens from every line;
* ``instruments``: this process's counters and histograms (requests, KMS calls, the key
  cache), shared through prometheus_client's multiprocess mode when
  ``PROMETHEUS_MULTIPROC_DIR`` is set;
* ``metered``: the root key and the key cache, timed and counted;
* ``readings``: the deployment's state read from the data store when scraped (due and
  overdue deadlines, purge lag, backup age, certificate expiry, promise results);
* ``exposition``: both, in Prometheus' text format (``GET /metrics``, api/routes_metrics.py).
"""
