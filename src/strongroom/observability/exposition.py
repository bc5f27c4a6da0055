"""``GET /metrics``'s body: every process's instruments and the deployment's readings, in
Prometheus' text format (docs/operations.md "Metrics and logs" lists the names)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from strongroom.observability.instruments import process_collector
from strongroom.observability.readings import Readings

CONTENT_TYPE = CONTENT_TYPE_LATEST


def render(readings: Readings | None) -> bytes:
    """The exposition: instruments, then ``readings`` (None: the data store did not
    answer; ``strongroom_readings_up`` says so)."""
    registry = CollectorRegistry()
    process_collector(registry)
    registry.register(_Deployment(readings))
    return generate_latest(registry)


class _Deployment(Collector):
    def __init__(self, readings: Readings | None) -> None:
        self.readings = readings

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "strongroom_readings_up",
            "1 if the deployment's state was read from the data store for this scrape.",
            value=0 if self.readings is None else 1,
        )
        yield up
        if self.readings is not None:
            yield from _gauges(self.readings)


def _gauges(r: Readings) -> Iterable[Metric]:
    due = GaugeMetricFamily(
        "strongroom_deadlines_due",
        "Deadlines (purges, exports, erasures) due now and not done, by action.",
        labels=("action",),
    )
    overdue = GaugeMetricFamily(
        "strongroom_deadlines_overdue",
        "Deadlines due for more than an hour and not done, by action.",
        labels=("action",),
    )
    for backlog in r.backlog:
        due.add_metric((backlog.action,), backlog.due)
        overdue.add_metric((backlog.action,), backlog.overdue)
    yield due
    yield overdue
    yield GaugeMetricFamily(
        "strongroom_purge_lag_seconds",
        "Seconds the oldest due purge has waited since its time came (0: none waits).",
        value=r.purge_lag_seconds(),
    )
    yield GaugeMetricFamily(
        "strongroom_backup_age_seconds",
        "Seconds since the newest data backup was taken (+Inf: none yet).",
        value=r.backup_age_seconds(),
    )
    days_left = r.certificate_days_left()
    if days_left is not None:
        yield GaugeMetricFamily(
            "strongroom_tls_certificate_days_left",
            "Days until the served TLS certificate expires (negative: expired).",
            value=days_left,
        )
    holds = GaugeMetricFamily(
        "strongroom_promise_holds",
        "1 if the newest check of the trust page's promise passed, else 0.",
        labels=("promise",),
    )
    age = GaugeMetricFamily(
        "strongroom_promise_check_age_seconds",
        "Seconds since the promise was last checked.",
        labels=("promise",),
    )
    for check in r.promises:
        holds.add_metric((check.promise_id,), 1 if check.holds else 0)
        age.add_metric((check.promise_id,), max(0.0, (r.now - check.checked_at).total_seconds()))
    yield holds
    yield age
