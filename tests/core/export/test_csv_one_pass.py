"""The CSV writer's one-pass path (#17): pandas' minimal quoting gives the same bytes as the
re-quoting path whenever no text cell holds a lone CR, and hostile cells still come back as one
neutralised field each."""

from __future__ import annotations

import csv
import io
import random

import numpy as np
import pandas as pd
import pytest

from cobbdesk.core.export.columns import ColumnSpec
from cobbdesk.core.export.writers import csv_lines, csv_text, neutralise

PIECES = ["P001", "Ann", "=1+1", "+x", "-2", "@A1", "\tt", "a,b", 'say "hi"', "x\ny",
          "x\n=cmd", "é ü 日本", "", " ", "3.5", "line\r\nnext", "-", "a\r=b"]  # fmt: skip
COLUMNS = [ColumnSpec("id", "ID", kind="text"), ColumnSpec("note", "Note", kind="text"),
           ColumnSpec("angle", "Angle"), ColumnSpec("n", "N")]  # fmt: skip


def _frame(rng: random.Random, rows: int, with_cr: bool) -> pd.DataFrame:
    pieces = PIECES if with_cr else [p for p in PIECES if "\r" not in p]
    return pd.DataFrame({
        "id": [rng.choice(pieces) for _ in range(rows)],
        "note": [rng.choice(pieces) + rng.choice(pieces) for _ in range(rows)],
        "angle": [rng.choice([np.nan, -12.25, 0.1 + 0.2, 1e-7, 35.5]) for _ in range(rows)],
        "n": list(range(rows)),
    })  # fmt: skip


def _reference(frame: pd.DataFrame) -> str:
    """The re-quoting path: every text cell neutralised, formatted by pandas, quoted by csv."""
    safe = frame.copy()
    for spec in COLUMNS:
        if spec.is_text:
            safe[spec.name] = safe[spec.name].map(neutralise)
    formatted = safe.to_csv(index=False, lineterminator="\n", na_rep="", quoting=csv.QUOTE_ALL)
    return csv_lines(csv.reader(io.StringIO(str(formatted), newline="")))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("with_cr", [False, True])
def test_one_pass_equals_requoting(seed: int, with_cr: bool) -> None:
    frame = _frame(random.Random(seed), 40, with_cr)
    text = csv_text(frame, COLUMNS)
    assert text == _reference(frame)
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert len(records) == 41
    assert [r[1] for r in records[1:]] == [neutralise(v) for v in frame["note"]]


def test_a_text_column_without_text_is_left_as_is() -> None:
    frame = pd.DataFrame({"id": [np.nan, np.nan], "note": ["=x", "ok"], "angle": [1.0, 2.0],
                          "n": [1, 2]})  # fmt: skip
    assert csv_text(frame, COLUMNS).splitlines() == ["id,note,angle,n", ",'=x,1.0,1", ",ok,2.0,2"]
