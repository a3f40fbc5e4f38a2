"""The export's query frames are fetched in chunks with shared text objects: same data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cobbdesk.core.export import dataset
from cobbdesk.core.store import Study


def test_chunked_fetch_gives_the_same_long_frame(
    fixture_study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Study.open(fixture_study) as study:
        whole = dataset.load_long(study)
        monkeypatch.setattr(dataset, "_CHUNK_ROWS", 3)  # many chunks, some of one row
        chunked = dataset.load_long(study)
    assert len(whole) > 6
    pd.testing.assert_frame_equal(chunked, whole)


def test_shared_texts_keep_values_dtype_and_nulls() -> None:
    names = ["r1", "r2", None, "r1", "r1", "r2", "r1", "r1", "r2", "r1"]
    fresh = [None if n is None else "".join(list(n)) for n in names]  # a new object each
    assert len({id(v) for v in fresh if v is not None}) == 9
    frame = pd.DataFrame({
        "rater": fresh,
        "mixed": ["1.5", 2.0, "x", None, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        "n": range(10),
    })  # fmt: skip
    before = frame.copy()
    after = dataset._shared_texts(frame.copy())
    pd.testing.assert_frame_equal(after, before)
    raters = after["rater"].dropna()
    assert len({id(v) for v in raters}) == 2  # one object per distinct text


def test_a_chunk_of_nulls_keeps_the_column_numeric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study, study.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x REAL, s TEXT)"))
        rows = "(NULL, NULL), (NULL, 'a'), (1.5, 'a'), (2.5, NULL)"
        conn.execute(text(f"INSERT INTO t VALUES {rows}"))
        query = text("SELECT x, s FROM t ORDER BY rowid")
        whole = dataset._frame(conn, query)
        monkeypatch.setattr(dataset, "_CHUNK_ROWS", 2)
        chunked = dataset._frame(conn, query)
    pd.testing.assert_frame_equal(chunked, whole)
    assert chunked["x"].dtype == "float64"
