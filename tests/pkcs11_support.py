"""Fresh SoftHSM2 tokens for tests (a helper module, not a conftest).

SoftHSM2 reads ``SOFTHSM2_CONF`` when the library is initialised, and python-pkcs11
keeps one initialised library per process (``pkcs11.lib(path)`` is a singleton). So
every test in a pytest process shares ONE config and token folder, set once in
``os.environ`` (never through ``monkeypatch``: a restored variable would send the next
initialisation to the system token folder), and each test gets its own token, with a
new label, inside that folder.

A running library does not see tokens that ``softhsm2-util`` initialises afterwards,
so :func:`make_softhsm_token` finalises and re-initialises the library after each new
token. That invalidates every open PKCS#11 session in the process: make the tokens a
test needs before opening a ``Pkcs11Kms`` on any of them, and close those at the end.

Call :func:`new_softhsm_token` from a fixture of your own
(``from tests.pkcs11_support import new_softhsm_token``), or register this module once
(``pytest_plugins = ["tests.pkcs11_support"]`` in tests/conftest.py) to get the
``softhsm_token`` fixture. Importing the fixture into a test module also works, but
ruff reports it (F401, F811). Without SoftHSM2 the tests skip, or fail when ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pkcs11
import pytest

MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
TEST_PIN = "4711-test-pin"
TEST_SO_PIN = "0815-test-so-pin"


@dataclass(frozen=True)
class SoftHsmToken:
    module_path: str
    token_label: str
    pin: str = field(repr=False)
    conf_path: Path


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail under CI, where SoftHSM2 must be installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"SoftHSM2 is required in CI: {reason}", pytrace=False)
    pytest.skip(f"SoftHSM2 not available: {reason}")


def softhsm_module() -> str:
    """The SoftHSM2 PKCS#11 module (``SOFTHSM2_MODULE`` overrides), or skip/fail."""
    if shutil.which("softhsm2-util") is None:
        unavailable("softhsm2-util is not on PATH (apt-get install softhsm2)")
    override = os.environ.get("SOFTHSM2_MODULE")
    for candidate in (override,) if override else MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    unavailable(f"no libsofthsm2.so at {override or ', '.join(MODULE_CANDIDATES)}")


def write_softhsm_conf(folder: Path) -> Path:
    """A softhsm2.conf keeping tokens in ``folder/tokens`` (kept if it exists)."""
    conf = folder / "softhsm2.conf"
    if not conf.exists():
        (folder / "tokens").mkdir(parents=True, exist_ok=True)
        conf.write_text(
            f"directories.tokendir = {folder / 'tokens'}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
        )
    return conf


def make_softhsm_token(
    folder: Path,
    label: str | None = None,
    *,
    pin: str = TEST_PIN,
    so_pin: str = TEST_SO_PIN,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> SoftHsmToken:
    """Initialise a new token in the SoftHSM2 token folder under ``folder``.

    Pass the same ``folder`` for every token of a process (see the module docstring);
    ``monkeypatch`` is for a process that loads the library no more than once.
    """
    module_path = softhsm_module()
    conf = write_softhsm_conf(folder)
    if monkeypatch is not None:
        monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    else:
        os.environ["SOFTHSM2_CONF"] = str(conf)
    label = label or f"sr-{secrets.token_hex(6)}"
    result = subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            so_pin,
            "--pin",
            pin,
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"softhsm2-util --init-token failed: {result.stderr.strip()}", pytrace=False)
    # Rescan the token folder; a library that is not loaded yet is loaded here. The real
    # path, as Pkcs11Kms uses: python-pkcs11 would initialise a second spelling again.
    pkcs11.lib(os.path.realpath(module_path)).reinitialize()
    return SoftHsmToken(module_path, label, pin, conf)


#: Names this process's SoftHSM2 folder. An environment variable rather than a module
#: global or a session fixture, which would each give a second folder: a session-scoped
#: fixture imported into two test modules runs once per module, and this helper may be
#: imported under two names (``tests.pkcs11_support``, ``pkcs11_support``).
FOLDER_VARIABLE = "STRONGROOM_TEST_SOFTHSM2_DIR"


def process_softhsm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The one SoftHSM2 folder of this pytest process; sets ``SOFTHSM2_CONF`` to it."""
    known = os.environ.get(FOLDER_VARIABLE)
    folder = Path(known) if known else None
    if folder is None or not folder.is_dir():
        folder = tmp_path_factory.mktemp("softhsm2")
        os.environ[FOLDER_VARIABLE] = str(folder)
    os.environ["SOFTHSM2_CONF"] = str(write_softhsm_conf(folder))
    return folder


def new_softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    """A fresh token, with a unique label, in this process's SoftHSM2 folder."""
    return make_softhsm_token(process_softhsm_folder(tmp_path_factory))


@pytest.fixture
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> SoftHsmToken:
    """A fresh SoftHSM2 token for one test."""
    return new_softhsm_token(tmp_path_factory)
