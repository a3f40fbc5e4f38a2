"""Server passwords from the OS keyring (#15): the last source after what the user typed,
PGPASSWORD and ~/.pgpass; no usable keyring means no password from it, never an exception.

The keyring is keyring's own test seam: ``keyring.set_keyring`` with an in-memory backend
(:class:`MemoryKeyring`), so no real keyring of the machine is read or written.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study, os_keyring, pg_dialect
from cobbdesk.core.store import pg_url as urls
from tests.keyring_double import BrokenKeyring, MemoryKeyring, use_keyring
from tests.pgcluster import PW_SECRET, PW_USER, SUPERUSER


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MemoryKeyring]:
    """An in-memory keyring; no PGPASSWORD, no password file, nothing typed, no prompt."""
    before = keyring.get_keyring()
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setattr(urls, "_passwords", {})
    urls.set_prompt(None)
    backend = MemoryKeyring()
    use_keyring(backend)
    yield backend
    keyring.set_keyring(before)
    os_keyring.reset()


def test_the_keyring_is_the_last_source(
    memory: MemoryKeyring, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loc = urls.parse("postgresql://alice@db.example:5433/trial")
    assert urls.keyring_username(loc) == "alice@db.example:5433/trial"
    assert urls.password(loc) is None
    memory.entries[("cobbdesk", "alice@db.example:5433/trial")] = "from-keyring"
    memory.entries[("cobbdesk", "alice@db.example:5432/trial")] = "other-port"
    assert urls.password(loc) == "from-keyring"
    pgpass = tmp_path / "pgpass"
    pgpass.write_text("db.example:5433:trial:alice:from-pgpass\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert urls.password(loc) == "from-pgpass"
    monkeypatch.setenv("PGPASSWORD", "from-env")
    assert urls.password(loc) == "from-env"
    urls.remember_password(loc, "typed")
    assert urls.password(loc) == "typed"
    assert urls.password(urls.parse("postgresql://alice:in-url@db.example:5433/trial")) == (
        "in-url"
    )


def test_not_asked_unless_wanted_and_stored_under_the_location(memory: MemoryKeyring) -> None:
    loc = urls.parse("postgresql://bob@/trial?host=/run/pg&port=5433")
    assert urls.keyring_username(loc) == "bob@/run/pg:5433/trial"
    assert urls.store_in_keyring(loc, "s3cret")
    assert memory.entries == {("cobbdesk", "bob@/run/pg:5433/trial"): "s3cret"}
    os_keyring.reset()
    assert urls.password(loc, ask_keyring=False) is None  # not asked: the keyring was idle
    assert memory.lookups == 0
    assert urls.password(loc) == "s3cret"
    assert urls.password(loc, ask_keyring=False) == "s3cret"  # what it gave this process
    assert not urls.store_in_keyring(loc, "")  # nothing to remember


@pytest.mark.parametrize("backend", [fail.Keyring, BrokenKeyring])
def test_no_usable_keyring_gives_no_password_without_raising(
    memory: MemoryKeyring, backend: type[KeyringBackend]
) -> None:
    kind = backend()
    use_keyring(kind)
    loc = urls.parse("postgresql://alice@db.example/trial")
    assert urls.password(loc) is None
    assert urls.keyring_password(loc) is None
    assert not urls.store_in_keyring(loc, "s3cret")
    if isinstance(kind, BrokenKeyring):
        assert kind.lookups == 1  # failed once: not asked again in this process


def test_a_keyring_that_never_answers_is_given_up(
    memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    class Stuck(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            release.wait(30)
            return "too-late"

    monkeypatch.setattr(os_keyring, "TIMEOUT_S", 0.05)
    use_keyring(Stuck())
    try:
        assert urls.password(urls.parse("postgresql://alice@db.example/trial")) is None
        assert not urls.store_in_keyring(urls.parse("postgresql://alice@db.example/t"), "x")
    finally:
        release.set()


@pytest.mark.postgres
def test_a_stored_password_opens_the_server_study(memory: MemoryKeyring, pg_cluster: Any) -> None:
    base = pg_cluster.new_study_url()
    loc = urls.parse(base)
    with Study.create(base) as study, study.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    assert memory.lookups == 0  # the superuser logs in without a password: never asked
    pg_cluster.sql(f"GRANT cobbdesk_rater TO {PW_USER}")
    url = base.replace(f"{SUPERUSER}@", f"{PW_USER}@")
    rater = urls.parse(url)
    with pytest.raises(StoreError, match="needs a password for role pw_user"):
        Study.open(url)
    assert urls.store_in_keyring(rater, "wrong-" + PW_SECRET)
    for _ in range(5):  # pg8000 hides the refusal behind "network error" about 2 times in 3
        with pytest.raises(StoreError, match=r"refused the login \(wrong role or password\)"):
            Study.open(url)  # a stale keyring entry is not a way in
    assert urls.store_in_keyring(rater, PW_SECRET)
    os_keyring.reset()
    with Study.open(url) as study:
        assert study.actor.user == PW_USER
        study.patients()
    assert memory.lookups >= 1
