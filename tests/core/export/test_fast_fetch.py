"""The numpy export path reads measurement and lab rows as numbers only (issue #17).

Rater and spacing source come as codes, every other cell as a number, straight into one
float64 array per chunk.  SQLite keeps any type in any column, so a cell edited outside
CobbDesk into text or a blob must still make the fast path step aside (Unsupported) rather
than be read as a number: numpy would read the text ``'inf'``, ``'nan'`` or ``'1_000'``
as one.  These tests put such cells into a varied study and check the refusal, and that the
command line then writes what the pandas reference path writes (or refuses as it refuses).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Column, Float, Integer, MetaData, Table, create_engine, select, text

from cobbdesk.cli import main as cli_main
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.export.arrays import load_table
from cobbdesk.core.export.fetch import (
    REFUSED,
    Unsupported,
    fetch_numbers,
    number_or_refused,
    text_or_blob,
)
from cobbdesk.core.export.writers import export_with_pandas
from cobbdesk.core.store import Study

from .varied_study import write_varied_study


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_varied_study(tmp_path_factory.mktemp("varied") / "varied.cobbdesk")


def edited(varied: Path, folder: Path, sql: str, value: object) -> Path:
    """A copy of the study with one cell set to ``value`` by ``sql`` (``:v``), as a tool
    outside CobbDesk could."""
    path = folder / "edited.cobbdesk"
    path.write_bytes(varied.read_bytes())
    with Study.open(path) as study, study.transaction() as conn:
        assert conn.execute(text(sql), {"v": value}).rowcount == 1
    return path


FIRST_LIVE = (
    "(SELECT m.id FROM measurements m JOIN films f ON f.id = m.film_id "
    "WHERE m.deleted_utc IS NULL AND f.deleted_utc IS NULL ORDER BY m.id LIMIT 1)"
)
CELLS = [
    (f"UPDATE measurements SET lower_posterior_y = :v WHERE id = {FIRST_LIVE}", "inf"),
    (f"UPDATE measurements SET upper_anterior_x = :v WHERE id = {FIRST_LIVE}", "nan"),
    (f"UPDATE measurements SET angle_deg = :v WHERE id = {FIRST_LIVE}", b"\x00\x01"),
    (f"UPDATE measurements SET spacing_row_mm = :v WHERE id = {FIRST_LIVE}", "1_000"),
    (f"UPDATE measurements SET upper_snapped = :v WHERE id = {FIRST_LIVE}", "yes"),
    (f"UPDATE measurements SET rater = :v WHERE id = {FIRST_LIVE}", b"A"),
    (f"UPDATE measurements SET spacing_source = :v WHERE id = {FIRST_LIVE}", b"PixelSpacing"),
    ("UPDATE labs SET value_num = :v WHERE id = (SELECT min(id) FROM labs WHERE name = 'crp' "
     "AND value_num IS NOT NULL AND deleted_utc IS NULL)", "nan"),
    ("UPDATE labs SET value_num = :v WHERE id = (SELECT max(id) FROM labs WHERE name = 'vas' "
     "AND value_num IS NOT NULL AND deleted_utc IS NULL)", "1_5"),
    ("UPDATE labs SET value_num = :v WHERE id = (SELECT max(id) FROM labs WHERE name = 'cpk' "
     "AND value_num IS NOT NULL AND deleted_utc IS NULL)", b"2"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "value"), CELLS, ids=[f"{s.split()[1]}-{s.split()[3]}-{v!r}"
                                                     for s, v in CELLS])  # fmt: skip
def test_a_cell_of_another_type_steps_aside(
    varied: Path, tmp_path: Path, sql: str, value: object
) -> None:
    path = edited(varied, tmp_path, sql, value)
    with Study.open(path) as study, pytest.raises(Unsupported):
        load_table(study)
    try:
        with Study.open(path) as study:
            export_with_pandas(study, "wide", tmp_path / "pandas.csv")
    except CobbdeskError:  # the reference refuses: so does the command, writing nothing
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            assert cli_main(["export", str(path), "--format", "wide", "-o",
                             str(tmp_path / "cli.csv")]) != 0  # fmt: skip
        assert not (tmp_path / "cli.csv").exists()
        return
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["export", str(path), "--format", "wide", "-o",
                         str(tmp_path / "cli.csv")]) == 0  # fmt: skip
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_the_unedited_study_takes_the_fast_path(varied: Path) -> None:
    with Study.open(varied) as study:
        assert len(load_table(study)) > 40


@pytest.fixture
def cells() -> Table:
    return Table("cells", MetaData(), Column("id", Integer), Column("x", Float),
                 Column("n", Integer))  # fmt: skip


def test_text_or_blob_marks_exactly_text_and_blobs(cells: Table) -> None:
    """SQLite's ordering: numbers and NULL before text, text before blobs (``x >= ''``)."""
    engine = create_engine("sqlite://")
    values = [1.5, 2, None, -0.0, 1e308, "abc", "inf", "", "-", b"", b"\x01"]
    with engine.begin() as conn:
        cells.create(conn)
        conn.exec_driver_sql("INSERT INTO cells VALUES (?, ?, 1)", list(enumerate(values)))
        marks = conn.execute(
            select(text_or_blob(conn, [cells.c.x, cells.c.n])).order_by(cells.c.id)
        ).scalars().all()  # fmt: skip
        types = conn.execute(text("SELECT typeof(x) FROM cells ORDER BY id")).scalars().all()
    assert marks == [int(t in ("text", "blob")) for t in types]
    assert marks == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]


def test_number_or_refused_reads_numbers_and_refuses_text_and_blobs(cells: Table) -> None:
    """Numbers and NULL come as they are, text (even numpy-readable: ``1_5``, ``inf``) and
    blobs as REFUSED, which fetch_numbers refuses."""
    engine = create_engine("sqlite://")
    values = [1.5, 2, None, 1e308, "1_5", "inf", "", b"", b"2"]
    with engine.begin() as conn:
        cells.create(conn)
        conn.exec_driver_sql("INSERT INTO cells VALUES (?, ?, 1)", list(enumerate(values)))
        read = conn.execute(
            select(number_or_refused(conn, cells.c.x)).order_by(cells.c.id)
        ).scalars().all()  # fmt: skip
        types = conn.execute(text("SELECT typeof(x) FROM cells ORDER BY id")).scalars().all()
        assert types[4:] == ["text"] * 3 + ["blob"] * 2
        assert read == [1.5, 2, None, 1e308] + [REFUSED] * 5
        for k in range(len(values)):
            query = select(number_or_refused(conn, cells.c.x)).where(cells.c.id == k)
            if k < 4:
                assert len(fetch_numbers(conn, query)) == 1
            else:
                with pytest.raises(Unsupported):
                    fetch_numbers(conn, query)


def test_fetch_numbers_reads_nulls_as_nan_and_refuses_bad_ids(cells: Table) -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        cells.create(conn)
        conn.execute(cells.insert(), [{"id": 1, "x": None, "n": 3}, {"id": 2, "x": 0.1, "n": 4}])
        got = fetch_numbers(conn, select(cells.c.id, cells.c.x, cells.c.n), ids=("id", "n"))
        assert got["id"].dtype == np.int64 and got["id"].tolist() == [1, 2]
        assert np.isnan(got["x"][0]) and got["x"][1] == 0.1
        for bad in (None, 2.5, 2**53):
            conn.execute(text("UPDATE cells SET n = :v WHERE id = 2"), {"v": bad})
            with pytest.raises(Unsupported):
                fetch_numbers(conn, select(cells.c.id, cells.c.n), ids=("n",))
        conn.execute(text("UPDATE cells SET x = 'high' WHERE id = 2"))
        with pytest.raises(Unsupported):
            fetch_numbers(conn, select(cells.c.x))
