"""A server connection's settings arrive in the startup message (no round trips of their own)
and hold for every connection of the study: statement and lock timeouts, the study's schema,
read-only when asked, JIT off; on a Unix socket no SSL is requested."""

from __future__ import annotations

from typing import Any

import pytest

from cobbdesk.core.errors import StudyReadOnlyError
from cobbdesk.core.store import Study, pg_dialect
from cobbdesk.core.store import pg_url as urls

pytestmark = pytest.mark.postgres

_SETTINGS = ("statement_timeout", "lock_timeout", "search_path", "jit",
             "default_transaction_read_only")  # fmt: skip


def _current(study: Study) -> dict[str, str]:
    with study.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, setting FROM pg_settings")  # ms, unformatted
        return {name: str(value) for name, value in rows if name in _SETTINGS}


def test_settings_of_a_server_study(pg_url: str) -> None:
    Study.create(pg_url + "&statement_timeout=4500").close()
    schema = pg_url.rsplit("schema=", 1)[1]
    with Study.open(pg_url + "&statement_timeout=4500") as study:
        assert _current(study) == {
            "statement_timeout": "4500", "lock_timeout": str(pg_dialect.LOCK_TIMEOUT_MS),
            "search_path": schema, "jit": "off", "default_transaction_read_only": "off",
        }  # fmt: skip
        study.add_patient("P1")
    with Study.open(pg_url, read_only=True) as study:
        assert _current(study)["default_transaction_read_only"] == "on"
        assert [p.study_id for p in study.patients()] == ["P1"]
        with pytest.raises(StudyReadOnlyError):
            study.add_patient("P2")


def test_no_ssl_request_on_a_unix_socket(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import pg8000.dbapi

    seen: list[Any] = []
    real = pg8000.dbapi.connect

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("ssl_context", "absent"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pg8000.dbapi, "connect", spy)
    loc = urls.parse(pg_url)
    assert loc.unix_sock
    pg_dialect.connect(loc).close()
    assert seen == [False]  # pg8000's default (None) would ask the server for SSL first
