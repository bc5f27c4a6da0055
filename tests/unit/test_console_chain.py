"""The console's audit-chain verdict: one walk at a time, reused for a minute."""

from __future__ import annotations

import threading
import time

import pytest

from strongroom.console import chain
from strongroom.errors import AuditChainBroken


@pytest.fixture(autouse=True)
def fresh() -> None:
    chain.forget()


def test_a_verdict_is_reused_instead_of_walking_again() -> None:
    walks: list[int] = []
    assert chain.broken_reason(lambda: walks.append(1)) is None
    assert chain.broken_reason(lambda: walks.append(1)) is None
    assert walks == [1]


def test_a_broken_chain_names_its_reason_until_forgotten() -> None:
    def broken() -> None:
        raise AuditChainBroken("event 12 was edited", position=12, reason="hash")

    assert chain.broken_reason(broken) == "hash"
    assert chain.broken_reason(lambda: None) == "hash"  # reused
    chain.forget()
    assert chain.broken_reason(lambda: None) is None


def test_walks_never_overlap() -> None:
    running = 0
    most = 0
    guard = threading.Lock()

    def walk() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with guard:
            running -= 1

    threads = [threading.Thread(target=chain.one_walk_at_a_time, args=(walk,)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1
