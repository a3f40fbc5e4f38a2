"""A varied random study written straight into the tables (fast, no films on disk).

For the equality tests of the numpy and pandas export paths: several raters (one with a
formula-like name, one with a lone CR, one in Unicode), up to four raters on a film (the
mean's compensated sum), repeated and soft-deleted measurements, missing visits and films,
duplicate visits of one kind, deleted patients and visits, films of unknown region and
templates that do not match the film, uncalibrated films with non-square pixels, user
calibrations, stale stored angles and algorithms, degenerate points, snapped lines, NULL and
missing labs, impossible and missing dates, ages over 89, formula-like and Unicode study IDs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import text

from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import calibrations, films, labs, measurements, patients, visits

NOW = "2026-01-01T00:00:00.000000Z"
POINTS = [f"{line}_{end}_{axis}" for line in ("upper", "lower")
          for end in ("anterior", "posterior") for axis in ("x", "y")]  # fmt: skip
RATERS = ("A", "B", "=cmd|x", "Zoë 名前", "C\rD")
IDS = ("P{:03d}", "={:d}", "-{:d}", "+S{:d}", "@{:d}", "Ü{:03d}", "P,{:d}", 'Q"{:d}')
TEMPLATES = {"cervical": "C2-C7", "lumbar": "L1-S1"}


def write_varied_study(path: Path, n: int = 60, seed: int = 7) -> Path:
    """Write the study to ``path`` (``n`` patients, everything derived from ``seed``)."""
    rng = np.random.default_rng(seed)
    study = Study.create(path, actor="test")
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("p", "v", "f", "m", "l", "c")}
    for i in range(n):
        _patient(rng, i, rows)
    with study.transaction() as conn:
        for table, key in ((patients, "p"), (visits, "v"), (films, "f"), (measurements, "m"),
                           (labs, "l"), (calibrations, "c")):  # fmt: skip
            if rows[key]:
                conn.execute(table.insert(), rows[key])
    study.close()
    return path


def _patient(rng: np.random.Generator, i: int, rows: dict[str, list[dict[str, Any]]]) -> None:
    pid = i + 1
    birth = None if i % 11 == 3 else f"{1925 + i % 80}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    rows["p"].append({
        "id": pid, "study_id": IDS[i % len(IDS)].format(i), "sex": (None, "F", "M", "O")[i % 4],
        "created_utc": NOW, "birth_date": "1950-02-30" if i % 13 == 5 else birth,
        "name": f"Name {i} Ñ\r=x" if i % 9 == 2 else f"Name {i}", "mrn": f"M{i}",
        "dicom_patient_id": None if i % 5 == 0 else f"D{i}",
        "dose_mg_kg_day": None if i % 7 == 0 else float(rng.choice([0.5, 1.25, 0.1])),
        "duration_months": float(rng.integers(1, 30)),
        "deleted_utc": NOW if i % 17 == 16 else None,
    })  # fmt: skip
    kinds = ["admission", "month3"] if i % 6 else ["admission"]
    if i % 10 == 9:
        kinds = ["month3", "other"]
    if i % 8 == 4:
        kinds.append("admission")  # a second admission visit (another label)
    for k, kind in enumerate(kinds):
        vid = len(rows["v"]) + 1
        month = 1 if kind == "admission" else 4
        date = None if (i + k) % 14 == 6 else f"2026-{month:02d}-{1 + (i * 3 + k) % 28:02d}"
        rows["v"].append({"id": vid, "patient_id": pid, "kind": kind, "label": f"L{k}",
                          "visit_date": date, "created_utc": NOW,
                          "deleted_utc": NOW if (i + k) % 19 == 18 else None})  # fmt: skip
        _visit_films(rng, i, vid, rows)
        _visit_labs(rng, i, vid, rows)


def _visit_films(rng: np.random.Generator, i: int, vid: int, rows: dict[str, Any]) -> None:
    for region in ("cervical", "lumbar", "unknown"):
        if (region == "unknown" and vid % 4) or (vid + len(region)) % 9 == 0:
            continue  # a missing film
        fid = len(rows["f"]) + 1
        rows["f"].append({"id": fid, "visit_id": vid, "sop_instance_uid": f"1.2.{fid}",
                          "path": f"/f/{fid}.dcm", "region": region, "view": "",
                          "created_utc": NOW, "deleted_utc": NOW if fid % 23 == 0 else None})
        if fid % 7 == 3:
            rows["c"].append({"film_id": fid, "kind": "ruler", "x1": 0.0, "y1": 0.0, "x2": 1.0,
                              "y2": 0.0, "length_mm": 10.0, "spacing_row_mm": 0.2,
                              "spacing_col_mm": 0.2, "rater": "A", "created_utc": NOW,
                              "deleted_utc": None})
        count = int(rng.integers(0, 5))
        for rater in rng.choice(RATERS, size=count, replace=False).tolist():
            for repeat in range(1 + int(rng.random() < 0.2)):
                rows["m"].append(_measurement(rng, fid, region, str(rater),
                                              number=len(rows["m"]), repeat=repeat))


def _measurement(
    rng: np.random.Generator, fid: int, region: str, rater: str, *, number: int, repeat: int
) -> dict[str, Any]:
    angle = float(rng.normal(30.0, 40.0))
    rad = math.radians(angle)
    coords = [100.0, 100.0, 300.0, 100.0, 100.0, 400.0, 100.0 + 200 * math.cos(rad),
              400.0 - 200 * math.sin(rad)]  # fmt: skip
    if number % 31 == 7:
        coords[2:4] = coords[0:2]  # a degenerate line: NaN angle
    template = TEMPLATES.get(region, "C2-C7")
    if number % 13 == 4:
        template = "L1-S1" if template == "C2-C7" else "FREE"
    spacing = number % 5 != 1
    aspect = (1.0, 2.0) if number % 10 == 1 else (None, None)
    stored = angle + (0.5 if number % 17 == 2 else 0.0)
    return {
        "id": f"m-{number:06d}", "film_id": fid, "rater": rater, "template": template,
        **dict(zip(POINTS, coords, strict=True)),
        "spacing_source": "PixelSpacing" if spacing else "none",
        "spacing_row_mm": 0.15 if spacing else None, "spacing_col_mm": 0.15 if spacing else None,
        "pixel_aspect_row": aspect[0], "pixel_aspect_col": aspect[1], "angle_deg": stored,
        "algorithm_version": "old-1" if number % 29 == 5 else "cobbdesk-cobb-1",
        "created_utc": f"2026-01-{1 + repeat:02d}T{number % 24:02d}:00:00.000000Z",
        "updated_utc": NOW, "deleted_utc": NOW if number % 11 == 10 else None,
        "upper_snapped": number % 3 == 0, "lower_snapped": number % 6 == 0,
    }  # fmt: skip


def _visit_labs(rng: np.random.Generator, i: int, vid: int, rows: dict[str, Any]) -> None:
    if vid % 7 == 5:
        return  # a visit without labs
    for name, spec in LAB_SPECS.items():
        if rng.random() < 0.15:
            continue
        if spec.kind == "binary":
            text = ("positive", "negative", None)[int(rng.integers(0, 3))]
            rows["l"].append({"visit_id": vid, "name": name, "value_num": None,
                              "value_text": text, "unit": "", "updated_utc": NOW,
                              "deleted_utc": None})
            continue
        value = None if rng.random() < 0.1 else round(float(abs(rng.normal(5, 3))), 3)
        if name == "lymphocyte" and vid % 10 == 3:
            value = 0.0  # NLR undefined
        rows["l"].append({"visit_id": vid, "name": name, "value_num": value,
                          "value_text": None, "unit": spec.unit, "updated_utc": NOW,
                          "deleted_utc": NOW if rng.random() < 0.05 else None})  # fmt: skip


def put_text_in_number_cell(path: Path) -> None:
    """Edit one stored point into text, as a tool outside CobbDesk could."""
    with Study.open(path) as study, study.transaction() as conn:
        first = conn.execute(measurements.select().limit(1)).first()
        assert first is not None
        conn.execute(text("UPDATE measurements SET upper_anterior_x = '12.5 px' WHERE id = :id"),
                     {"id": first.id})  # fmt: skip


def put_text_in_lab_cell(path: Path) -> None:
    """Edit one stored lab value into text (read by the export's background query)."""
    with Study.open(path) as study, study.transaction() as conn:
        conn.execute(text("UPDATE labs SET value_num = 'high' WHERE id = "
                          "(SELECT min(id) FROM labs WHERE value_num IS NOT NULL)"))  # fmt: skip
