"""aead_vs_openssl: Strongroom's segment encryption against ``openssl speed`` on the same
machine (MB = 10^6 bytes; openssl's "k" is 1000 bytes).

Strongroom: ``segments.encrypt_stream`` over in-memory random data (io.BytesIO) with
64 KiB segments into a sink that discards, repeated for about as long as openssl runs.
openssl: ``openssl speed -evp aes-256-gcm -bytes 65536 -seconds N``, single-threaded.
The two alternate; each figure is the median of the repetitions.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bench.runner import Config, Result, alternate, median
from strongroom.crypto.envelope import Binding
from strongroom.crypto.policy import FILE_SEGMENT_BYTES
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segments import encrypt_stream

MB = 1_000_000
BLOCK = 65536
_ROW = re.compile(r"^aes-256-gcm\s+([0-9.]+)k\s*$", re.IGNORECASE | re.MULTILINE)


def _discard(_chunk: bytes) -> None:
    return None


def strongroom_mb_s(data: bytes, key: SecretKey, seconds: float) -> float:
    """Encrypt ``data`` as a stream again and again for ``seconds``; MB/s of plaintext."""
    binding = Binding("file", "ws_bench", "prj_bench", "fil_bench")
    done = 0
    t0 = time.perf_counter()
    while True:
        done += encrypt_stream(io.BytesIO(data), _discard, key, "prj_bench", 1, binding)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return done / MB / elapsed


def aesgcm_ceiling_mb_s(seconds: float) -> float:
    """The same library's bare ``AESGCM.encrypt`` on one 64 KiB block, in a loop: what
    Strongroom could reach with no framing, reading or copying at all."""
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    nonce, block, aad = os.urandom(12), os.urandom(BLOCK), os.urandom(64)
    done = 0
    t0 = time.perf_counter()
    while True:
        aead.encrypt(nonce, block, aad)
        done += BLOCK
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return done / MB / elapsed


def library_versions() -> str:
    """OpenSSL inside ``cryptography`` (which Strongroom uses) and the ``openssl`` CLI."""
    from cryptography.hazmat.backends.openssl.backend import backend

    openssl = shutil.which("openssl") or "openssl"
    cli = subprocess.run([openssl, "version"], capture_output=True, text=True, check=False)
    return f"cryptography uses {backend.openssl_version_text()}; CLI is {cli.stdout.strip()}"


def parse_openssl_speed(output: str) -> float:
    """The 65536-byte figure of ``openssl speed -evp aes-256-gcm -bytes 65536``, in MB/s."""
    match = _ROW.search(output)
    if match is None:
        raise RuntimeError(f"cannot find the aes-256-gcm row in openssl output:\n{output}")
    return float(match.group(1)) * 1000 / MB


def openssl_mb_s(seconds: int) -> float:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not on PATH")
    done = subprocess.run(
        [openssl, "speed", "-evp", "aes-256-gcm", "-bytes", str(BLOCK), "-seconds", str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return parse_openssl_speed(done.stdout)


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    if FILE_SEGMENT_BYTES != BLOCK:
        raise RuntimeError(f"Strongroom segments are {FILE_SEGMENT_BYTES} B, not {BLOCK} B")
    data = os.urandom(config.aead_bytes)
    key = SecretKey.generate("bench key")
    strongroom_mb_s(data[: 4 * BLOCK], key, 0.0)  # warm-up
    ours: list[float] = []
    theirs: list[float] = []
    ceiling: list[float] = []
    for rep in range(config.openssl_reps):
        if alternate(rep):
            ours.append(strongroom_mb_s(data, key, config.aead_seconds))
            theirs.append(openssl_mb_s(config.openssl_seconds))
        else:
            theirs.append(openssl_mb_s(config.openssl_seconds))
            ours.append(strongroom_mb_s(data, key, config.aead_seconds))
        ceiling.append(aesgcm_ceiling_mb_s(config.aead_seconds / 3))
    return [
        Result(
            "aead_vs_openssl",
            median(ours),
            median(theirs),
            "MB/s",
            None,
            "Strongroom: segments.encrypt_stream over "
            f"{config.aead_bytes // (1024 * 1024)} MiB in memory (64 KiB segments, per-stream "
            f"HKDF, discard sink) for >= {config.aead_seconds:g} s; openssl: `openssl speed "
            f"-evp aes-256-gcm -bytes 65536 -seconds {config.openssl_seconds}`; median of "
            f"{config.openssl_reps} alternating runs each. In-process ceiling (bare "
            f"AESGCM.encrypt of one 64 KiB block in a loop): {median(ceiling):,.0f} MB/s. "
            f"{library_versions()}: the two sides may use different AES-GCM code.",
        )
    ]
