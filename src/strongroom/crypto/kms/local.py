"""Root key versions as files in the home folder. For development and single-machine
use only: whoever can read the home folder as its owner can read the root key.

Each version is ``kms/root-NNNNNN.key``: 32 random bytes, mode 0600, in a folder of
mode 0700. Opening refuses a key file or folder that group or others can access.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from strongroom.crypto.kms.base import RootKeyVersion, SoftwareRoot
from strongroom.crypto.policy import KEY_BYTES
from strongroom.crypto.secret import SecretKey
from strongroom.errors import ConfigurationError, KeyUnavailable

_NAME = re.compile(r"root-(\d{6})\.key")


def _require_owner_only(path: Path, info: os.stat_result) -> None:
    if info.st_mode & 0o077:
        raise ConfigurationError(
            f"{path} is accessible to group or others (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run: chmod go-rwx {path}"
        )
    if info.st_uid != os.getuid():
        raise ConfigurationError(f"{path} belongs to another user; it must belong to this one")


def _check_private(path: Path) -> None:
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise ConfigurationError(f"{path} is a symbolic link; the root key must be a plain file")
    _require_owner_only(path, info)


def _read_private(path: Path) -> bytes:
    """Read a key file without following links, checking the file actually opened."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        _require_owner_only(path, os.fstat(fd))
        return os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)


def _read_folder(folder: Path) -> dict[int, SecretKey]:
    _check_private(folder)
    keys: dict[int, SecretKey] = {}
    for path in sorted(folder.iterdir()):
        match = _NAME.fullmatch(path.name)
        if not match:
            continue
        try:
            material = _read_private(path)
        except FileNotFoundError:  # destroyed by a shred epoch while this folder was read
            continue
        except OSError as e:  # ELOOP: a symbolic link where a key file should be
            raise ConfigurationError(
                f"{path} cannot be read as a plain file: {e.strerror}"
            ) from None
        if len(material) != KEY_BYTES:
            raise ConfigurationError(f"{path} is not a {KEY_BYTES * 8}-bit key")
        version = int(match.group(1))
        keys[version] = SecretKey(material, f"root-v{version}")
    return keys


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalKms(SoftwareRoot):
    backend = "local"
    for_development = True

    def __init__(self, folder: Path, keys: dict[int, SecretKey]) -> None:
        super().__init__(keys)
        self._folder = folder
        self._closed = False

    @classmethod
    def create(cls, folder: Path) -> LocalKms:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        if any(_NAME.match(p.name) for p in folder.iterdir()):
            raise ConfigurationError(f"{folder} already holds a root key")
        kms = cls(folder, {})
        kms.rotate()
        return kms

    @classmethod
    def open(cls, folder: Path) -> LocalKms:
        if not folder.is_dir():
            raise ConfigurationError(f"no local root key folder at {folder}; run strongroom init")
        keys = _read_folder(folder)
        if not keys:
            raise KeyUnavailable(f"no root key in {folder}")
        return cls(folder, keys)

    def _reread(self) -> None:
        """Another process may have rotated, or destroyed versions in a shred epoch, since
        this one opened the folder: what is on disk is the truth."""
        if self._closed:
            raise KeyUnavailable("the local root key is closed")
        self._keys = _read_folder(self._folder)

    def rotate(self) -> int:
        self._reread()  # the new version follows the newest on disk
        return super().rotate()

    def current_version(self) -> int:
        self._reread()
        return super().current_version()

    def versions(self) -> list[RootKeyVersion]:
        self._reread()
        return super().versions()

    def wrap(self, key: SecretKey, context: bytes) -> tuple[int, bytes]:
        # Never wrap under a version a shred epoch elsewhere has destroyed: that key would
        # be lost the moment it is written.
        self._reread()
        return super().wrap(key, context)

    def unwrap(self, version: int, wrapped: bytes, context: bytes, label: str) -> SecretKey:
        if version not in self._keys or not self._path(version).exists():
            self._reread()  # a version made elsewhere, or one destroyed elsewhere
        return super().unwrap(version, wrapped, context, label)

    def _path(self, version: int) -> Path:
        return self._folder / f"root-{version:06d}.key"

    def _add_version(self, version: int, key: SecretKey) -> None:
        _write_private(self._path(version), key.reveal())
        super()._add_version(version, key)

    def destroy_version(self, version: int) -> None:
        super().destroy_version(version)
        path = self._path(version)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return
        try:
            os.write(fd, b"\0" * KEY_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        # The removal itself durable: after a power cut the version is still gone.
        folder = os.open(self._folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    def close(self) -> None:
        self._closed = True  # no reread brings the keys back
        super().close()
