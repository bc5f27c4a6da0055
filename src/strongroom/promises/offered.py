"""Promises whose check is a service's own ``verdict(now)``: the DPA with the SCCs
(services/agreements.py), the first reply to a request (services/inbox.py) and the
subprocessor list (services/subprocessors.py). Their claims are here, rendered from the
settings like every other; bootstrap.py joins each claim to its service's verdict, so
this package imports none of those services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from strongroom.config import Settings
from strongroom.domain.promises import Verdict
from strongroom.promises.registry import Deployment, Promise

ServiceVerdict = Callable[[datetime], Verdict]


def _checked_by(verdict: ServiceVerdict) -> Callable[[Deployment], Verdict]:
    return lambda deployment: verdict(deployment.now)


def _dpa_claim(settings: Settings) -> str:
    return (
        "A data processing agreement incorporating the EU Standard Contractual Clauses is "
        f"published at {settings.public_url}/agreements/dpa; a published text is never "
        "changed (the database refuses it), a new version is accepted anew by its date, and "
        "every acceptance gets a signed receipt."
    )


def dpa(verdict: ServiceVerdict) -> Promise:
    return Promise(
        "dpa", "Data processing agreement with the SCCs", _dpa_claim, _checked_by(verdict)
    )


def _response_claim(settings: Settings) -> str:
    hours = settings.response_hours
    return (
        f"Support, security and privacy requests sent to {settings.public_url}/contact get a "
        f"first reply within {hours} hour{'s' if hours != 1 else ''}."
    )


def response_time(verdict: ServiceVerdict) -> Promise:
    return Promise(
        "response-time", "Requests answered in time", _response_claim, _checked_by(verdict)
    )


def _subprocessors_claim(settings: Settings) -> str:
    return (
        f"The subprocessors that handle customer data are listed at {settings.public_url}"
        f"/subprocessors (also as JSON and an Atom feed); every change is announced at least "
        f"{settings.subprocessor_notice_days} days before it takes effect, mailed to "
        "subscribers, and open to owners' objections until then."
    )


def subprocessors(verdict: ServiceVerdict) -> Promise:
    return Promise("subprocessors", "Subprocessor list", _subprocessors_claim, _checked_by(verdict))


__all__ = ["ServiceVerdict", "dpa", "response_time", "subprocessors"]
