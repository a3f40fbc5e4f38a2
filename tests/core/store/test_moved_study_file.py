"""A study file moved or deleted while open is never re-created as an empty database at its
old name: the engine connects with ``mode=rw`` (https://sqlite.org/uri.html), so a new
connection fails instead of creating the file (seen in the study watcher's test: its poll
re-created the file between the test's unlink and mkdir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study


@pytest.mark.parametrize("name", ["s.cobbdesk", "a b#%?.cobbdesk"])
def test_a_moved_study_is_not_recreated(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    study = Study.create(path, actor="tester")
    study.add_patient(dicom_patient_id="MRN-1")
    study.engine.dispose()  # the next statement needs a new connection
    path.rename(tmp_path / "moved.cobbdesk")
    with pytest.raises(StoreError):
        study.patients()
    with pytest.raises(StoreError):
        study.add_patient(dicom_patient_id="MRN-2")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved.cobbdesk"]
    study.close()
    with Study.open(tmp_path / "moved.cobbdesk") as moved:
        assert len(moved.patients()) == 1
