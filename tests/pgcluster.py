"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, a Unix socket only.

``initdb`` runs in a temporary folder as an unprivileged user (``cobbdesk-pg``, created with
``useradd`` when the tests run as root; otherwise the current user), the server listens on no
TCP address (``listen_addresses=''``) and runs with ``fsync=off``; :meth:`Cluster.stop` ends it
by its PID.  Each test gets a fresh database (:meth:`Cluster.new_database`).  The superuser
``cobbdesk`` logs in without a password (``trust`` on the socket); the role ``pw_user`` needs
its password (``scram-sha-256``), for the password tests.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

SUPERUSER = "cobbdesk"
PW_USER, PW_SECRET = "pw_user", "s3cret-Pw"
OS_USER = "cobbdesk-pg"
_counter = itertools.count(1)


def binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``initdb`` and ``postgres``."""
    def version(path: str) -> int:
        name = Path(path).parts[-3]
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    return Path(found[-1]).parent if found else None


def _os_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as: ``cobbdesk-pg`` when root (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        OS_USER], check=True, capture_output=True)  # fmt: skip
        entry = pwd.getpwnam(OS_USER)
    return entry.pw_uid, entry.pw_gid


class Cluster:
    """A running throwaway cluster; :attr:`socket` is the Unix socket file's path."""

    def __init__(self) -> None:
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="cobbpg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.socket_dir.mkdir()
        self.ids = _os_user()
        if self.ids is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, *self.ids)
        self.process: subprocess.Popen[bytes] | None = None
        self.log: Any = None
        self.shared_db = ""

    @property
    def socket(self) -> str:
        return str(self.socket_dir / ".s.PGSQL.5432")

    def _run(self, args: list[str], **kw: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, check=True, capture_output=True, **self._as_user(), **kw)

    def _as_user(self) -> dict[str, Any]:
        return {} if self.ids is None else {"user": self.ids[0], "group": self.ids[1],
                                            "extra_groups": []}  # fmt: skip

    def start(self) -> None:
        assert self.bin is not None
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                   "--auth-local=trust", "--auth-host=reject", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"])  # fmt: skip
        hba = self.data / "pg_hba.conf"
        rules = f"local all {PW_USER} scram-sha-256\nlocal all all trust\n"
        hba.write_text(rules)
        self.log = open(self.root / "server.log", "wb")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-k", str(self.socket_dir),
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
            stdout=self.log, stderr=subprocess.STDOUT, **self._as_user(),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("postgres exited: " + (self.root / "server.log").read_text())
            if os.path.exists(self.socket) and self._ready():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("postgres did not start within 30 s")
        self.sql(f"CREATE ROLE {PW_USER} LOGIN PASSWORD '{PW_SECRET}'")

    def _ready(self) -> bool:
        try:
            self.sql("SELECT 1")
        except Exception:
            return False
        return True

    def connect(self, database: str = "postgres", user: str = SUPERUSER) -> Any:
        import pg8000.dbapi

        conn = pg8000.dbapi.connect(user=user, unix_sock=self.socket, database=database)
        conn.autocommit = True
        return conn

    def sql(self, statement: str, database: str = "postgres") -> list[Any]:
        conn = self.connect(database)
        try:
            cursor = conn.cursor()
            cursor.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    def url(self, database: str, user: str = SUPERUSER, schema: str = "") -> str:
        extra = f"&schema={schema}" if schema else ""
        return f"postgresql://{user}@/{database}?unix_sock={self.socket}{extra}"

    def new_database(self) -> str:
        """A fresh, empty database (about half a second); returns its name."""
        name = f"t{os.getpid()}_{next(_counter)}"
        self.sql(f"CREATE DATABASE {name}")
        return name

    def new_study_url(self) -> str:
        """The URL of a fresh, empty schema in the shared test database (instant)."""
        if not self.shared_db:
            self.shared_db = self.new_database()
        return self.url(self.shared_db, schema=f"s{next(_counter)}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log is not None:
            self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)
