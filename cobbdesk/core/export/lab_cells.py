"""Lab cells that must hold a number but hold text or ±infinity (a study edited outside
CobbDesk).

SQLite keeps any value in any column: ``'12,5'`` typed into ``labs.value_num`` by another
tool stays text.  Exporting it as missing would silently drop a measured value from the
analysis, and guessing a number (decimal comma, unit suffix) could be wrong by a factor, so
an export or a statistics run refuses it with one line naming the study, the patient's study
ID (never a name), the visit, the lab and what was expected.  Cells of labs no export shows
(a deleted visit or patient, a visit kind outside ``EVENTS``) are read as missing: they
reach no output either way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, select

from cobbdesk.core.errors import ExportError
from cobbdesk.core.export.columns import EVENTS
from cobbdesk.core.store.schema import patients, visits

_SHOWN_CHARACTERS = 20
"""At most this many characters of the offending text are quoted in the error."""


def numeric_labs(conn: Connection, table: pd.DataFrame, path: Path | str) -> pd.DataFrame:
    """``table`` (index ``visit_id``, one column per lab) as float64.

    Raises
    ------
    ExportError
        A cell of an exported visit holds a value that is not a number (text or bytes):
        ``"<study>: lab 'crp' of patient S00012, visit admission holds text '12,5' where a
        number is expected; correct it in the study and export again"``.
    """
    bad = table.map(_not_a_number).to_numpy(dtype=bool)
    if not bad.any():
        return table.astype(float)
    rows, cols = np.nonzero(bad)
    shown = _shown_visits(conn, {int(table.index[r]) for r in rows.tolist()})
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        where = shown.get(int(table.index[r]))
        if where is not None:
            raise ExportError(path, _problem(str(table.columns[c]), where, table.iat[r, c]))
    return table.mask(pd.DataFrame(bad, index=table.index, columns=table.columns)).astype(float)


def _not_a_number(value: Any) -> bool:
    """Text, bytes or an infinite float (SQLite stores ±Inf as a REAL; NaN is NULL)."""
    return isinstance(value, (str, bytes)) or (isinstance(value, float) and math.isinf(value))


def _shown_visits(conn: Connection, visit_ids: set[int]) -> dict[int, tuple[str, str]]:
    """Visit id -> (patient study ID, visit kind) for the live visits of live patients, of an
    exported kind, among ``visit_ids``."""
    v, p = visits.c, patients.c
    query = (
        select(v.id, p.study_id, v.kind)
        .join_from(visits, patients, p.id == v.patient_id)
        .where(v.id.in_(sorted(visit_ids)), v.deleted_utc.is_(None), p.deleted_utc.is_(None))
        .where(v.kind.in_(EVENTS))
    )
    return {int(vid): (str(sid), str(kind)) for vid, sid, kind in conn.execute(query)}


def _problem(lab: str, where: tuple[str, str], value: Any) -> str:
    if isinstance(value, float):
        return (f"lab '{lab}' of patient {where[0]}, visit {where[1]} holds {value} where a "
                "finite number is expected; correct it in the study and export again")  # fmt: skip
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    quoted = text if len(text) <= _SHOWN_CHARACTERS else text[:_SHOWN_CHARACTERS] + "…"
    kind = "bytes" if isinstance(value, bytes) else "text"
    return (
        f"lab '{lab}' of patient {where[0]}, visit {where[1]} holds {kind} {quoted!r} where a "
        "number is expected; correct it in the study and export again"
    )
