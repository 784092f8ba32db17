"""A real PostgreSQL + PostGIS server for the tests, in a temporary folder.

:func:`postgis_server` finds ``initdb`` and ``pg_ctl`` (``PATH``, then
``/usr/lib/postgresql/*/bin``), initialises a cluster in a fresh folder, starts it
on a free TCP port of 127.0.0.1 with its unix socket in that folder, creates a
database with ``CREATE EXTENSION postgis`` and stops the server when the block
ends. As root (initdb refuses to run as root) the cluster belongs to the
``postgres`` OS user (else ``nobody``) and the commands run through ``runuser``.

Where something is missing (the binaries, the PostGIS extension, the Python
packages) the caller gets :class:`PostgresMissing` with the reason: tests skip
on it, or fail under ``CI=true`` (:func:`skip_or_fail`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PostgresMissing", "Server", "postgis_server", "skip_or_fail"]

#: Python packages the PostGIS readers and writers need.
PACKAGES = ("sqlalchemy", "psycopg", "geoalchemy2")
DATABASE = "geoplan_test"


class PostgresMissing(RuntimeError):
    """What the test server needs and this machine lacks."""


@dataclass(frozen=True)
class Server:
    """A running server: ``uri(table)`` names a table of its PostGIS database."""

    host: str
    port: int
    user: str
    database: str
    socket_dir: Path

    def uri(self, table: str | None = None, **query: str) -> str:
        params = ({"table": table} if table else {}) | query
        tail = "&".join(f"{k}={v}" for k, v in params.items())
        base = f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"
        return f"{base}?{tail}" if tail else base


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; under ``CI=true`` fail with it (CI installs the server)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but the PostGIS test server cannot run: {reason}")
    pytest.skip(f"PostGIS test server unavailable: {reason}")


def _binaries() -> Path:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresMissing(
        "initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin "
        "(Debian: apt-get install postgresql postgis)"
    )


def _check_packages() -> None:
    import importlib.util

    missing = [p for p in PACKAGES if importlib.util.find_spec(p) is None]
    if missing:
        raise PostgresMissing(
            f"Python packages missing: {', '.join(missing)} (pip install -e '.[postgis]')"
        )


def _os_user() -> pwd.struct_passwd | None:
    """The OS user to run the server as: None for the current one (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise PostgresMissing("running as root and neither a 'postgres' nor a 'nobody' user exists")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], user: pwd.struct_passwd | None, *, what: str) -> str:
    if user is not None:
        runuser = shutil.which("runuser") or shutil.which("su")
        if runuser is None:
            raise PostgresMissing("running as root without runuser or su to drop to a user")
        cmd = (
            [runuser, "-u", user.pw_name, "--", *cmd]
            if runuser.endswith("runuser")
            else [runuser, user.pw_name, "-s", "/bin/sh", "-c", " ".join(cmd)]
        )
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise PostgresMissing(f"{what} failed: {(proc.stderr or proc.stdout).strip()[-800:]}")
    return proc.stdout


@contextlib.contextmanager
def postgis_server() -> Iterator[Server]:
    """Start a throwaway PostgreSQL + PostGIS server; stop it and remove it at the end."""
    _check_packages()
    bin_dir = _binaries()
    user = _os_user()
    root = Path(tempfile.mkdtemp(prefix="geoplan-pg-"))
    data, sockets, log = root / "data", root / "run", root / "server.log"
    sockets.mkdir()
    if user is not None:
        for p in (root, sockets):
            os.chown(p, user.pw_uid, user.pw_gid)
    db_user = "geoplan"
    port = _free_port()
    started = False
    try:
        _run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", db_user, "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            user, what="initdb",
        )  # fmt: skip
        started = True  # stop it even if start times out half way
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        _run(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
             "-w", "-t", "60", "start"],
            user, what="pg_ctl start",
        )  # fmt: skip
        server = Server("127.0.0.1", port, db_user, DATABASE, sockets)
        _create_database(server)
        yield server
    finally:
        if started:
            with contextlib.suppress(PostgresMissing, subprocess.TimeoutExpired):
                _run(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                    user, what="pg_ctl stop",
                )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def _create_database(server: Server) -> None:
    import psycopg

    base = dict(host=server.host, port=server.port, user=server.user)
    with psycopg.connect(dbname="postgres", autocommit=True, **base) as conn:  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{server.database}"')
    with psycopg.connect(dbname=server.database, autocommit=True, **base) as conn:  # type: ignore[arg-type]
        try:
            conn.execute("CREATE EXTENSION postgis")
        except psycopg.Error as exc:
            raise PostgresMissing(
                f"CREATE EXTENSION postgis failed ({exc}); Debian: apt-get install postgis"
            ) from exc
