"""Reading a study whose file is not writable leaves no ``-wal``/``-shm`` beside it (breaker
8: ``verify`` of a 0400 study left a 0400 ``-shm``; once the study was made writable, every
write was refused as "read-only" until that file was deleted by hand)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cobbdesk.core.store import Study, dialect


def test_an_unwritable_study_is_read_without_companion_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P1")
    assert not path.with_name("s.cobbdesk-wal").exists()
    assert not path.with_name("s.cobbdesk-shm").exists()
    real_access = os.access

    def access(target: object, mode: int) -> bool:  # as for a non-root user of a 0400 file
        if Path(str(target)) == path and mode == os.W_OK:
            return False
        return real_access(target, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(dialect.os, "access", access)
    assert "immutable=1" in dialect.read_uri(path, probe=False)
    with Study.open(path, read_only=True) as study:
        assert [p.study_id for p in study.patients()] == ["P1"]
    assert not path.with_name("s.cobbdesk-wal").exists()
    assert not path.with_name("s.cobbdesk-shm").exists()
    monkeypatch.undo()  # writable again: writes go on
    with Study.open(path) as study:
        study.add_patient("P2")
        assert len(study.patients()) == 2
