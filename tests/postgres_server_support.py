"""A PostgreSQL server of a test's own, to stop and start under load (the shared server
at 127.0.0.1:5432 that other tests use is never touched)::

    with OwnPostgres() as pg:         # initdb into a new folder, start on a free port
        url = pg.create_database("strongroom_data")
        pg.stop()                      # clients now get "connection refused"
        pg.start()                     # the same data, the same port
        pg.restart()

As root the server runs as the ``postgres`` user (``runuser``), which PostgreSQL
requires; the folder is made and chowned for it. :func:`postgres_binaries` is None when
no PostgreSQL is installed (tests then call ``need_service``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine, make_url, text

from tests.ports import free_port


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


class OwnPostgres:
    """One PostgreSQL server in a folder of its own; trust authentication for ``postgres``
    on 127.0.0.1 only. :attr:`url` is its ``postgres`` database (an admin URL)."""

    def __init__(self, binaries: Path | None = None) -> None:
        found = binaries or postgres_binaries()
        if found is None:
            raise RuntimeError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)")
        self.binaries = found
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="strongroom-own-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_of(self, database: str) -> str:
        return make_url(self.url).set(database=database).render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        """A new database; its URL."""
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url_of(name)

    def start(self) -> None:
        """Start (the data and the port stay); returns once it accepts connections."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
            f"{self.folder} -c max_connections=200 -c fsync=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop: ``fast`` ends every connection and checkpoints; ``immediate`` is a crash
        (the next start recovers from the WAL)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def running(self) -> bool:
        done = subprocess.run(
            self._command("pg_ctl", "-D", str(self.data), "status"),
            capture_output=True,
            check=False,
        )
        return done.returncode == 0

    def close(self) -> None:
        """Stop if running and delete the folder."""
        if self.running():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> OwnPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(self.binaries / tool), *args]
        if self._as_postgres:
            return ["runuser", "-u", "postgres", "--", *command]
        return command

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args[-1:])} failed ({done.returncode}): "
                f"{done.stderr.strip()[-2000:]}\n{log[-2000:]}"
            )
