"""The live measurement rows of a fast wide export as numpy columns (no pandas, issue #17).

Every column comes as a number so the rows go into one float64 array per chunk without a
Python object per cell: the points, scales and stored angle as floats, the visit and film
ids, and one whole number packing the small codes (region, template, rater, spacing source,
current algorithm, snapped lines, misfit) in mixed radix, computed by SQL and unpacked here.

On SQLite the rows are read in table order (no ``ORDER BY``: SQLite sorted the wide rows in
a temporary B-tree) with their ``rowid``; only when two rows share a (visit, region, rater)
key — when the order decides which one is exported — the ``rowid`` s are read once more in
the export's order (``created_utc``, then ``id``) and the rows put into it.  Other databases
sort in the query.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, and_, case, literal, literal_column, select

from cobbdesk.core.export.assemble import Visits
from cobbdesk.core.export.columns import REGIONS
from cobbdesk.core.export.fetch import Unsupported, fetch_numbers, text_or_blob
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, Template
from cobbdesk.core.store.checks import POINT_COLUMNS
from cobbdesk.core.store.records import template_region
from cobbdesk.core.store.schema import films, measurements

Array = npt.NDArray[Any]
TEMPLATES = tuple(t.value for t in Template)
SCALES = ("spacing_row_mm", "spacing_col_mm", "pixel_aspect_row", "pixel_aspect_col")
_REGION_CODES = {region: k for k, region in enumerate(REGIONS)}
"""Film regions as small integers read by SQL (no text object per row): a region's index
in ``REGIONS``; ``unknown`` (any other) is ``len(REGIONS)``."""
_TEMPLATE_REGION_CODES = np.array(
    [_REGION_CODES.get(template_region(t).value, len(REGIONS)) for t in TEMPLATES]
    + [len(REGIONS)]  # a template CobbDesk does not know: region unknown
)
_STORED_NUMBERS = (*POINT_COLUMNS, *SCALES, "angle_deg", "film_id", "upper_snapped",
                   "lower_snapped")  # fmt: skip
_SNAPPED_OTHER = 3
"""``snapped`` code of a row whose snapped flags are not both 0 or 1 (the fast path steps
aside: the pandas path reads such cells as they are)."""


def measurement_rows(conn: Connection, chosen: Visits) -> dict[str, Array]:
    """Live measurements of exported visits, oldest first (``created_utc``, then ``id``).

    Columns (arrays of equal length): ``visit_id``, ``film_id``, ``patient_id`` (int64),
    ``region`` (index in ``REGIONS``, ``len(REGIONS)`` for any other), ``template`` (index
    in ``Template``, ``len`` for any other), ``current`` (1 when stored by the current angle
    algorithm), ``snapped`` (snapped lines, 0–2, as float64), ``rater`` and
    ``spacing_source`` (object arrays of str), the points, scales and ``angle_deg`` (float64,
    NaN for NULL) and ``matches`` (bool: template region == film region).  Raises
    :class:`~cobbdesk.core.export.fetch.Unsupported` for a cell of another type.
    """
    m, f = measurements.c, films.c
    live = (m.deleted_utc.is_(None), f.deleted_utc.is_(None))
    raters, sources = _texts(conn, *live)
    codes = _code_fields(conn, raters, sources)
    ordered = conn.dialect.name != "sqlite"
    columns: list[Any] = [f.visit_id, m.film_id,
                          *(m[n] for n in (*POINT_COLUMNS, *SCALES, "angle_deg"))]  # fmt: skip
    if not ordered:
        columns.append(literal_column(f"{measurements.name}.rowid").label("row"))
    query = (
        select(*columns, _packed(codes).label("codes"))
        .join_from(measurements, films, f.id == m.film_id)
        .where(*live)
    )
    if ordered:
        query = query.order_by(m.created_utc, m.id)
    ids = ("visit_id", "film_id", "codes", *(() if ordered else ("row",)))
    rows = fetch_numbers(conn, query, ids=ids)
    rows.update(_unpacked(rows.pop("codes"), codes))
    if np.any(rows.pop("misfit") == 1) or np.any(rows["snapped"] == _SNAPPED_OTHER):
        raise Unsupported("a number column holds text or a blob")
    if not ordered:
        rows = _in_export_order(conn, rows, len(raters) + 1, *live)
    rows["snapped"] = rows["snapped"].astype(np.float64)  # a number column of the export
    rows["rater"] = np.array((*raters, ""), dtype=object)[rows["rater"]]
    rows["spacing_source"] = np.array((*sources, ""), dtype=object)[rows["spacing_source"]]
    return _of_exported_visits(rows, chosen)


def _of_exported_visits(rows: dict[str, Array], chosen: Visits) -> dict[str, Array]:
    """The rows of exported visits, with their ``patient_id`` and ``matches``."""
    outside = -(2**63)  # no patient id: the visit is not exported
    patient_ids = [chosen.patient_of.get(v, outside) for v in rows["visit_id"].tolist()]
    patient_id = np.array(patient_ids, dtype=np.int64)
    keep = patient_id != outside
    rows = {name: values[keep] for name, values in rows.items()}
    rows["patient_id"] = patient_id[keep]
    rows["matches"] = _TEMPLATE_REGION_CODES[rows["template"]] == rows["region"]
    return rows


def _texts(conn: Connection, *where: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The distinct raters and spacing sources of the live measurements (films live too);
    Unsupported for a NULL, a number or a blob."""
    m = measurements.c
    query = (
        select(m.rater, m.spacing_source)
        .distinct()
        .join_from(measurements, films, films.c.id == m.film_id)
        .where(*where)
    )
    rows = conn.execute(query).all()
    if not all(type(rater) is str and type(source) is str for rater, source in rows):
        raise Unsupported("a text column holds a number, a blob or a NULL")
    return tuple(dict.fromkeys(r[0] for r in rows)), tuple(dict.fromkeys(r[1] for r in rows))


def _code(column: Any, values: tuple[str, ...]) -> Any:
    """SQL: the index of ``column``'s value in ``values``, ``len(values)`` for any other."""
    if not values:
        return literal(0)
    return case(*((column == v, k) for k, v in enumerate(values)), else_=len(values))


def _code_fields(
    conn: Connection, raters: tuple[str, ...], sources: tuple[str, ...]
) -> list[tuple[str, Any, int]]:
    """(name, SQL expression, radix) of each packed code, most significant first."""
    m, f = measurements.c, films.c
    flags = and_(m.upper_snapped.in_((0, 1)), m.lower_snapped.in_((0, 1)))
    misfit = text_or_blob(conn, [*(m[n] for n in _STORED_NUMBERS), f.visit_id])
    return [
        ("rater", _code(m.rater, raters), len(raters) + 1),
        ("spacing_source", _code(m.spacing_source, sources), len(sources) + 1),
        ("template", _code(m.template, TEMPLATES), len(TEMPLATES) + 1),
        ("region", _code(f.region, REGIONS), len(REGIONS) + 1),
        ("current", case((m.algorithm_version == ALGORITHM_VERSION, 1), else_=0), 2),
        ("snapped", case((flags, m.upper_snapped + m.lower_snapped), else_=_SNAPPED_OTHER), 4),
        ("misfit", misfit, 2),
    ]


def _packed(fields: list[tuple[str, Any, int]]) -> Any:
    """SQL: the codes of ``fields`` as one whole number in mixed radix (exact in float64)."""
    if math.prod(radix for _name, _sql, radix in fields) >= 2**53:
        raise Unsupported("too many raters or spacing sources to pack their codes")
    packed = fields[0][1]
    for _name, sql, radix in fields[1:]:
        packed = packed * radix + sql
    return packed


def _unpacked(packed: Array, fields: list[tuple[str, Any, int]]) -> dict[str, Array]:
    """The int64 code columns of :func:`_packed` values."""
    out = {}
    rest = packed
    for name, _sql, radix in reversed(fields[1:]):
        rest, out[name] = np.divmod(rest, radix)
    out[fields[0][0]] = rest
    return out


def _in_export_order(
    conn: Connection, rows: dict[str, Array], n_raters: int, *live: Any
) -> dict[str, Array]:
    """``rows`` (with SQLite's ``row``, dropped here) oldest first, as ``ORDER BY
    created_utc, id`` sorts them; read again only when two rows share an exported key."""
    row = rows.pop("row")
    keys = (rows["visit_id"] * (len(REGIONS) + 1) + rows["region"]) * n_raters + rows["rater"]
    if len(np.unique(keys)) == len(keys):
        return rows  # one row per key: the order decides nothing
    m = measurements.c
    query: Any = (
        select(literal_column(f"{measurements.name}.rowid").label("row"))
        .join_from(measurements, films, films.c.id == m.film_id)
        .where(*live)
        .order_by(m.created_utc, m.id)
    )
    ordered = fetch_numbers(conn, query, ids=("row",))["row"]
    by_row = np.argsort(row)
    where = by_row[np.searchsorted(row[by_row], ordered).clip(0, max(len(row) - 1, 0))]
    if len(ordered) != len(row) or not np.array_equal(row[where], ordered):
        raise Unsupported("the measurements changed while they were read")
    return {name: values[where] for name, values in rows.items()}
