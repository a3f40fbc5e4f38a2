"""A server connection that drops under a running command: SQLAlchemy's pool logs
"Exception terminating connection …" with the driver's traceback; before the fix logging's
last-resort handler printed it on stderr (dozens of lines) ahead of CobbDesk's one line.
The ``sqlalchemy`` loggers now never reach stderr; the GUI files them as one redacted line
without traceback (:func:`cobbdesk.core.redact.quiet_libraries`)."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from cobbdesk.core import redact
from cobbdesk.core.store import Study

KILL = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
    "WHERE application_name = 'cobbdesk' AND pid <> pg_backend_pid()"
)


@pytest.fixture
def restored() -> Iterator[None]:
    """The sqlalchemy logger as it was (other tests may use caplog on it)."""
    logger = logging.getLogger("sqlalchemy")
    handlers, propagate = list(logger.handlers), logger.propagate
    yield
    logger.handlers[:] = handlers
    logger.propagate = propagate


# A fresh interpreter (pytest's own log handlers on the root logger would hide logging's
# last resort): the command's sessions are ended by the server as verify reads the study.
SCRIPT = f"""
import sys
import pg8000.dbapi
from cobbdesk.cli import main
from cobbdesk.core.store import Study

original = Study.overview

def overview(self):
    conn = pg8000.dbapi.connect(user="cobbdesk", unix_sock=sys.argv[2], database="postgres")
    conn.autocommit = True
    conn.cursor().execute("{KILL}")
    conn.close()
    return original(self)

Study.overview = overview
sys.exit(main(["verify", sys.argv[1]]))
"""


@pytest.mark.postgres
def test_killed_backend_leaves_no_traceback(pg_cluster: Any, pg_url: str) -> None:
    Study.create(pg_url).close()
    for _ in range(2):  # the pool may reconnect or the command stop: no traceback either way
        done = subprocess.run([sys.executable, "-c", SCRIPT, pg_url, pg_cluster.socket],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert "Traceback" not in done.stderr
        assert "Exception terminating" not in done.stderr
        assert done.returncode in (0, 6), done.stderr
        assert len(done.stderr.splitlines()) <= 1, done.stderr


def test_gui_log_gets_one_redacted_line(restored: None) -> None:
    stream = io.StringIO()
    target = logging.StreamHandler(stream)
    target.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    redact.quiet_libraries(target)
    redact.remember(["Zorkwell"])
    try:
        raise ConnectionResetError(104, "Connection reset by peer Zorkwell")
    except ConnectionResetError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error(
            "Exception terminating connection %r", "<conn Zorkwell>", exc_info=True
        )
    logging.getLogger("sqlalchemy.engine.Engine").info("SELECT 1")  # below WARNING: dropped
    assert stream.getvalue().splitlines() == [
        f"ERROR sqlalchemy.pool.impl.QueuePool: Exception terminating connection "
        f"'<conn {redact.MASK}>' (ConnectionResetError)"
    ]


def test_command_line_prints_nothing(
    capsys: pytest.CaptureFixture[str], restored: None
) -> None:
    redact.quiet_libraries()
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error("x", exc_info=True)
    assert capsys.readouterr().err == ""
