"""Reading a study whose file is not writable leaves no ``-wal``/``-shm`` beside it (breaker
8: ``verify`` of a 0400 study left a 0400 ``-shm``; once the study was made writable, every
write was refused as "read-only" until that file was deleted by hand)."""

from __future__ import annotations

from pathlib import Path

from cobbdesk.core.store import Study, dialect


def test_an_unwritable_study_is_read_without_companion_files(tmp_path: Path) -> None:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P1")
    assert not path.with_name("s.cobbdesk-wal").exists()
    assert not path.with_name("s.cobbdesk-shm").exists()
    path.chmod(0o400)  # nobody may write it (root reads it all the same)
    assert "immutable=1" in dialect.read_uri(path, probe=False)
    with Study.open(path, read_only=True) as study:
        assert [p.study_id for p in study.patients()] == ["P1"]
    assert not path.with_name("s.cobbdesk-wal").exists()
    assert not path.with_name("s.cobbdesk-shm").exists()
    path.chmod(0o600)  # writable again: writes go on
    with Study.open(path) as study:
        study.add_patient("P2")
        assert len(study.patients()) == 2
