"""``copy`` to a new file publishes it complete or not at all (#15; as ``import --create``).

The copy is built beside the destination and hard-linked to its name only after its digest
equals the source's: while it is being written, the destination name does not exist (another
program never opens an empty or half-copied study), and a copy that fails its proof leaves no
file — neither the destination nor the temporary one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study, copying
from tests.core.export.conftest import build_fixture_study


def test_the_destination_appears_only_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    target = tmp_path / "out" / "copy.cobbdesk"
    seen: list[bool] = []
    real = copying._copy_into

    def watching(study: Study, engine: Any, label: Path) -> copying.Digest:
        seen.append(target.exists())
        return real(study, engine, label)

    monkeypatch.setattr(copying, "_copy_into", watching)
    proved = copying.copy_study(source, target)
    assert seen == [False]
    assert proved == copying.study_digest(target) == copying.study_digest(source)
    with Study.open(target) as copy:
        assert copy.verify_integrity().ok
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.cobbdesk"]


def test_a_copy_failing_its_proof_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    target = tmp_path / "copy.cobbdesk"
    real = copying.digest
    calls = iter(range(100))

    def differing(engine: Any) -> copying.Digest:
        got = real(engine)
        if next(calls) == 1:  # the destination's digest: one table's hash altered
            name, (rows, _) = next(iter(got.tables.items()))
            return copying.Digest({**got.tables, name: (rows, "0" * 64)}, got.head)
        return got

    monkeypatch.setattr(copying, "digest", differing)
    with pytest.raises(StoreError, match="the copy differs from the source"):
        copying.copy_study(source, target)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("copy", ".copy"))) == []


def test_an_existing_destination_is_refused_before_anything_is_recorded(tmp_path: Path) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    target = tmp_path / "copy.cobbdesk"
    target.write_bytes(b"someone else's file")
    with Study.open(source) as study:
        before = study.verify_integrity().head
    with pytest.raises(StoreError, match="already exists"):
        copying.copy_study(source, target)
    assert target.read_bytes() == b"someone else's file"
    with Study.open(source) as study:
        assert study.verify_integrity().head == before
