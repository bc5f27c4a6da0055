"""Key material never shows (crypto/secret.py, KMS reprs) and the key cache is bounded
in count and time (crypto/cache.py)."""

from __future__ import annotations

import base64
import copy
import logging
import pickle
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.clock import FixedClock
from strongroom.crypto.cache import KeyCache
from strongroom.crypto.kms.local import LocalKms
from strongroom.crypto.kms.memory import MemoryKms
from strongroom.crypto.secret import SecretKey

MATERIAL = bytes.fromhex("8f3a0c55e1d27b9946aa10fe3c7d82b50b61f4e9d3a2c85711ee04b6a9f0c3d2")


def renderings(material: bytes) -> list[str]:
    """Ways key bytes could leak into text."""
    return [
        material.hex(),
        material.hex().upper(),
        material[:8].hex(),
        base64.b64encode(material).decode(),
        base64.urlsafe_b64encode(material).decode().rstrip("="),
        repr(material),
        repr(material)[2:-1][:20],
        material.decode("latin-1"),
        str(list(material[:6]))[1:-1],
    ]


def assert_no_key(text: str, *keys: SecretKey) -> None:
    for key in keys:
        for shown in renderings(key.reveal()):
            assert shown not in text, f"key material ({shown[:12]}...) in {text[:200]!r}"


def test_secret_key_text_forms_never_contain_the_material() -> None:
    key = SecretKey(MATERIAL, "dk-prj_1")
    shown = [
        repr(key),
        str(key),
        f"{key}",
        f"{key!r}",
        f"{key!s}",
        f"{key:}",
        format(key, ""),
        "%s %r" % (key, key),  # noqa: UP031 - the old formatting styles are the point
        "{} {!r}".format(key, key),  # noqa: UP032
        repr([key]),
        str({"k": key}),
        repr((key,)),
    ]
    for text in shown:
        assert_no_key(text, key)
        assert "dk-prj_1" in text
    assert "redacted" in repr(key)


def test_generated_keys_are_random_and_hidden() -> None:
    keys = [SecretKey.generate("k") for _ in range(50)]
    assert len({k.reveal() for k in keys}) == 50
    for k in keys:
        assert len(k.reveal()) == 32
        assert_no_key(repr(k) + str(k), k)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_key_cannot_be_pickled(protocol: int) -> None:
    key = SecretKey(MATERIAL, "dk")
    with pytest.raises(TypeError):
        pickle.dumps(key, protocol=protocol)
    with pytest.raises(TypeError):
        pickle.dumps({"inside": [key]}, protocol=protocol)


def test_secret_key_cannot_be_copied_through_the_pickle_protocol() -> None:
    key = SecretKey(MATERIAL, "dk")
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_secret_key_has_no_instance_dict_to_dump() -> None:
    key = SecretKey(MATERIAL, "dk")
    assert not hasattr(key, "__dict__")
    with pytest.raises(TypeError):
        vars(key)


def test_secret_key_length_is_enforced_and_the_error_does_not_echo_it() -> None:
    for bad in (b"", MATERIAL[:31], MATERIAL + b"\x00"):
        with pytest.raises(ValueError) as error:
            SecretKey(bad, "dk")
        if bad:
            assert bad.hex() not in str(error.value)
            assert repr(bad) not in str(error.value)


def test_secret_key_equality_is_by_material() -> None:
    assert SecretKey(MATERIAL, "a") == SecretKey(MATERIAL, "b")
    assert SecretKey(MATERIAL, "a") != SecretKey(bytes(32), "a")


def test_logging_a_key_or_an_error_built_from_it_shows_no_material(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = SecretKey(MATERIAL, "dk-prj_1")
    log = logging.getLogger("strongroom.test")
    with caplog.at_level(logging.DEBUG, logger="strongroom.test"):
        log.info("unwrapped %s", key)
        log.debug("unwrapped %r", key)
        log.warning("cache %s", {"prj_1": key})
        log.info(f"key is {key}")  # the careless form must be safe too
        try:
            raise RuntimeError(f"could not use {key}")
        except RuntimeError:
            log.exception("failure")
    assert len(caplog.records) == 5
    assert "dk-prj_1" in caplog.text
    assert_no_key(caplog.text, key)
    for record in caplog.records:
        assert_no_key(record.getMessage(), key)


def test_memory_kms_repr_has_no_key_material() -> None:
    kms = MemoryKms()
    kms.rotate()
    roots = list(kms._keys.values())
    assert len(roots) == 2
    assert_no_key(repr(kms) + str(kms), *roots)


def test_local_kms_repr_has_no_key_material(tmp_path: Path) -> None:
    kms = LocalKms.create(tmp_path / "kms")
    kms.rotate()
    materials = [p.read_bytes() for p in sorted((tmp_path / "kms").iterdir())]
    assert len(materials) == 2
    reopened = LocalKms.open(tmp_path / "kms")
    for k in (kms, reopened):
        assert_no_key(repr(k) + str(k), *(SecretKey(m, "root") for m in materials))


# KeyCache ------------------------------------------------------------------------------


def key(n: int) -> SecretKey:
    return SecretKey(bytes([n]) * 32, f"k{n}")


def test_cache_returns_what_was_put_and_counts_hits_and_misses() -> None:
    cache = KeyCache(FixedClock(), max_entries=4, ttl_seconds=300)
    assert cache.get("a") is None
    cache.put("a", key(1))
    assert cache.get("a") == key(1)
    assert (cache.hits, cache.misses) == (1, 1)
    assert len(cache) == 1


def test_cache_evicts_the_least_recently_used_beyond_max_entries() -> None:
    cache = KeyCache(FixedClock(), max_entries=3, ttl_seconds=300)
    for n, name in enumerate("abc"):
        cache.put(name, key(n))
    assert cache.get("a") is not None  # a is now the most recently used; b the least
    cache.put("d", key(3))
    assert len(cache) == 3
    assert cache.get("b") is None
    assert cache.get("a") == key(0)
    assert cache.get("c") == key(2)
    assert cache.get("d") == key(3)
    # putting again refreshes recency too
    cache.put("a", key(0))
    cache.put("e", key(4))
    assert cache.get("c") is None
    assert {n for n in "ade" if cache.get(n) is not None} == {"a", "d", "e"}


def test_cache_never_holds_more_than_max_entries() -> None:
    cache = KeyCache(FixedClock(), max_entries=5, ttl_seconds=300)
    for n in range(100):
        cache.put(("prj", n), key(n % 256))
        assert len(cache) <= 5
    assert [n for n in range(100) if cache.get(("prj", n)) is not None] == [95, 96, 97, 98, 99]


def test_cache_entries_expire_after_the_ttl() -> None:
    clock = FixedClock()
    cache = KeyCache(clock, max_entries=10, ttl_seconds=300)
    cache.put("a", key(1))
    clock.advance(timedelta(seconds=299))
    assert cache.get("a") == key(1)
    clock.advance(timedelta(seconds=2))
    assert cache.get("a") is None
    assert len(cache) == 0  # an expired key is dropped, not just hidden


def test_using_a_cached_key_does_not_extend_its_life() -> None:
    clock = FixedClock()
    cache = KeyCache(clock, max_entries=10, ttl_seconds=300)
    cache.put("a", key(1))
    for _ in range(5):
        clock.advance(timedelta(seconds=60))
        cache.get("a")
    clock.advance(timedelta(seconds=1))
    assert cache.get("a") is None


def test_putting_again_restarts_the_ttl() -> None:
    clock = FixedClock()
    cache = KeyCache(clock, max_entries=10, ttl_seconds=300)
    cache.put("a", key(1))
    clock.advance(timedelta(seconds=200))
    cache.put("a", key(2))
    clock.advance(timedelta(seconds=200))
    assert cache.get("a") == key(2)


def test_forget_and_clear() -> None:
    cache = KeyCache(FixedClock(), max_entries=10, ttl_seconds=300)
    cache.put("a", key(1))
    cache.put("b", key(2))
    cache.forget("a")
    cache.forget("missing")
    assert cache.get("a") is None and cache.get("b") == key(2)
    cache.clear()
    assert len(cache) == 0 and cache.get("b") is None


def test_cache_repr_has_no_key_material() -> None:
    cache = KeyCache(FixedClock(), max_entries=10, ttl_seconds=300)
    secret = SecretKey(MATERIAL, "dk")
    cache.put("prj_1", secret)
    text = repr(cache) + str(cache)
    assert_no_key(text, secret)
    assert "entries=1" in text
