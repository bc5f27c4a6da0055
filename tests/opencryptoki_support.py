"""opencryptoki's software token (slot 3) for tests: a second PKCS#11 implementation.

opencryptoki keeps one system-wide token state (``/var/lib/opencryptoki/swtok``) behind a
daemon, ``pkcsslotd``; its configuration has no per-user token folder, so these tests use
the system's slot 3 (as CI does). Once per process, :func:`opencryptoki_token` starts
the daemon if it is not running and initialises slot 3 with a test label and PINs; it
refuses to touch a slot 3 that carries another label (someone's real token). Before each
test it deletes the Strongroom root keys a previous test left, so every test starts on a
token that holds none.

The token offers AES ECB/CBC and HMAC-SHA256 but neither AES-GCM nor AES key wrap, so
Strongroom picks ``hmac-sha256-kdf`` there. Without opencryptoki (Debian
``opencryptoki``) the tests skip, or fail when ``CI=true``. Needs root or the group
``pkcs11``. As with SoftHSM2, python-pkcs11 loads the module once per process: close
every ``Pkcs11Kms`` a test opens before the next test starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass

MODULE_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/pkcs11/libopencryptoki.so",
    "/usr/lib/aarch64-linux-gnu/pkcs11/libopencryptoki.so",
    "/usr/lib64/opencryptoki/libopencryptoki.so",
    "/usr/lib/opencryptoki/libopencryptoki.so",
)
SLOT = 3
FACTORY_SO_PIN = "87654321"
TEST_SO_PIN = "24681357"
TEST_PIN = "sr4711"  # opencryptoki wants 4-8 characters
LABEL = "strongroom-test"
#: Where the software token keeps its state.
SWTOK = Path("/var/lib/opencryptoki/swtok")
#: Set once this process has prepared the token (see tests/pkcs11_support.py for why an
#: environment variable rather than a session fixture).
PREPARED_VARIABLE = "STRONGROOM_TEST_OPENCRYPTOKI_READY"
TIMEOUT = 60


@dataclass(frozen=True)
class OpencryptokiToken:
    module_path: str
    token_label: str
    pin: str = field(repr=False)


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI, where opencryptoki must be installed and running."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"opencryptoki is required in CI: {reason}", pytrace=False)
    pytest.skip(f"opencryptoki not available: {reason}")


def opencryptoki_module() -> str:
    override = os.environ.get("OPENCRYPTOKI_MODULE")
    for candidate in (override,) if override else MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    unavailable(f"no libopencryptoki.so at {override or ', '.join(MODULE_CANDIDATES)}")


#: opencryptoki's tools live in /usr/sbin, which a user's PATH may lack.
_TOOL_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def _tool(name: str) -> str | None:
    return shutil.which(name, path=_TOOL_PATH)


def _run(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    found = _tool(argv[0])
    if found is None:
        unavailable(f"{argv[0]} is not installed (apt-get install opencryptoki)")
    return subprocess.run(
        [found, *argv[1:]],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _must(*argv: str, stdin: str | None = None) -> str:
    done = _run(*argv, stdin=stdin)
    if done.returncode != 0:
        unavailable(f"{' '.join(argv[:3])} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout


def _slotd_answers() -> bool:
    return _run("pkcsconf", "-s", "-c", str(SLOT)).returncode == 0


def start_slot_daemon() -> None:
    """The folders opencryptoki expects, and ``pkcsslotd`` running."""
    if _tool("pkcsconf") is None or _tool("pkcsslotd") is None:
        unavailable("pkcsconf/pkcsslotd are not on PATH (apt-get install opencryptoki)")
    if _slotd_answers():
        return
    tmpfiles = Path("/usr/lib/tmpfiles.d/opencryptoki.conf")
    if _tool("systemd-tmpfiles") and tmpfiles.is_file():
        _run("systemd-tmpfiles", "--create", str(tmpfiles))
    for folder in ("/run/opencryptoki", "/var/lock/opencryptoki", "/var/lock/opencryptoki/swtok"):
        Path(folder).mkdir(mode=0o770, parents=True, exist_ok=True)
        shutil.chown(folder, "root", "pkcs11")
    started = _run("pkcsslotd")
    deadline = time.monotonic() + TIMEOUT
    while not _slotd_answers():
        if time.monotonic() > deadline:
            unavailable(f"pkcsslotd did not start: {(started.stderr or started.stdout).strip()}")
        time.sleep(0.5)


def _token_label() -> tuple[bool, str]:
    """(initialised?, label) of slot 3, from ``pkcsconf -t``."""
    out = _must("pkcsconf", "-t", "-c", str(SLOT))
    label = ""
    initialised = False
    for line in out.splitlines():
        name, _, value = line.strip().partition(":")
        if name.strip() == "Label":
            label = value.strip()
        if name.strip() == "Flags" and "TOKEN_INITIALIZED" in value:
            initialised = True
    return initialised, label


def prepare_slot() -> None:
    """Slot 3 initialised with the test label, SO PIN and user PIN."""
    initialised, label = _token_label()
    if initialised and label != LABEL:
        unavailable(
            f"slot {SLOT} holds the token {label!r}, not this suite's {LABEL!r}; refusing to "
            "reinitialise it (empty /var/lib/opencryptoki/swtok for a factory-new token)"
        )
    if initialised:
        # Ours from an earlier run. Reinitialising it with pkcsconf -I leaves an SO PIN
        # that no longer logs in (checked with opencryptoki 3.19); emptying its folder
        # makes it factory-new, and pkcsslotd picks that up without a restart.
        for path in (*SWTOK.glob("*"), *(SWTOK / "TOK_OBJ").glob("*")):
            if path.is_file():
                path.unlink()
    slot = str(SLOT)
    _must("pkcsconf", "-I", "-c", slot, "-S", FACTORY_SO_PIN, stdin=f"{LABEL}\n")
    _must("pkcsconf", "-P", "-c", slot, "-S", FACTORY_SO_PIN, "-n", TEST_SO_PIN)
    _must("pkcsconf", "-u", "-c", slot, "-S", TEST_SO_PIN, "-n", TEST_PIN)


def clear_root_keys(module_path: str) -> None:
    """Delete every Strongroom root key in the token (no ``Pkcs11Kms`` may be open)."""
    lib = pkcs11.lib(os.path.realpath(module_path))
    token = lib.get_token(token_label=LABEL)
    with token.open(rw=True, user_pin=TEST_PIN) as session:
        for obj in list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})):
            if bytes(obj[Attribute.ID]).startswith(b"strongroom-root-v"):
                obj.destroy()


def opencryptoki_token() -> OpencryptokiToken:
    """The test token, holding no Strongroom root key."""
    module_path = opencryptoki_module()
    if os.environ.get(PREPARED_VARIABLE) != "1":
        start_slot_daemon()
        prepare_slot()
        os.environ[PREPARED_VARIABLE] = "1"
    clear_root_keys(module_path)
    return OpencryptokiToken(module_path, LABEL, TEST_PIN)


@pytest.fixture
def ock_token() -> OpencryptokiToken:
    """opencryptoki's software token, holding no Strongroom root key."""
    return opencryptoki_token()
