"""Measurements on disk outside a study: the CSV table and the JSON sidecar next to a film.

The sidecar ``<film>.cobbdesk.json`` holds :meth:`CobbMeasurement.to_dict` records; reading
one rebuilds (and so re-validates) every measurement.  The CSV's ``angle_deg`` is recomputed
from the points (:attr:`CobbMeasurement.angle`), rounded to 4 decimals.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, utc_now

SIDECAR_SUFFIX = ".cobbdesk.json"
SIDECAR_FORMAT = "cobbdesk-measurements"
SIDECAR_VERSION = 1
CSV_COLUMNS = (
    "sop_instance_uid", "pixel_sha256", "template", "rater",
    "upper_anterior_x", "upper_anterior_y", "upper_posterior_x", "upper_posterior_y",
    "lower_anterior_x", "lower_anterior_y", "lower_posterior_x", "lower_posterior_y",
    "spacing_row_mm", "spacing_col_mm", "spacing_source", "angle_deg", "units", "convention",
    "algorithm_version", "created_utc", "updated_utc",
)  # fmt: skip


def csv_row(m: CobbMeasurement) -> dict[str, str | float]:
    """One CSV row (see :data:`CSV_COLUMNS`); empty spacing cells when uncalibrated."""
    row_mm, col_mm = m.spacing if m.spacing is not None else ("", "")
    return {
        "sop_instance_uid": m.sop_instance_uid, "pixel_sha256": m.pixel_sha256,
        "template": m.template.value, "rater": m.rater,
        "upper_anterior_x": m.upper.anterior[0], "upper_anterior_y": m.upper.anterior[1],
        "upper_posterior_x": m.upper.posterior[0], "upper_posterior_y": m.upper.posterior[1],
        "lower_anterior_x": m.lower.anterior[0], "lower_anterior_y": m.lower.anterior[1],
        "lower_posterior_x": m.lower.posterior[0], "lower_posterior_y": m.lower.posterior[1],
        "spacing_row_mm": row_mm, "spacing_col_mm": col_mm,
        "spacing_source": m.spacing_source.value, "angle_deg": round(m.angle, 4),
        "units": m.units, "convention": m.convention,
        "algorithm_version": m.algorithm_version,
        "created_utc": m.created_utc, "updated_utc": m.updated_utc,
    }  # fmt: skip


def write_measurements_csv(measurements: Iterable[CobbMeasurement], path: str | Path) -> Path:
    """Write one row per measurement (UTF-8, header :data:`CSV_COLUMNS`); return the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for m in measurements:
            writer.writerow(csv_row(m))
    return path


def sidecar_path(film_path: str | Path) -> Path:
    """``<film>.cobbdesk.json`` next to the film.

    >>> sidecar_path("/data/a.dcm").name
    'a.dcm.cobbdesk.json'
    """
    film_path = Path(film_path)
    return film_path.with_name(film_path.name + SIDECAR_SUFFIX)


def save_sidecar(measurements: Iterable[CobbMeasurement], film_path: str | Path) -> Path:
    """Atomically write the film's measurements to its JSON sidecar; return the sidecar path."""
    target = sidecar_path(film_path)
    document = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "saved_utc": utc_now(),
        "measurements": [m.to_dict() for m in measurements],
    }
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, ensure_ascii=False, indent=2)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_sidecar(film_path: str | Path) -> list[CobbMeasurement]:
    """The measurements saved next to ``film_path`` (empty list when there is no sidecar)."""
    source = sidecar_path(film_path)
    if not source.exists():
        return []
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(source, f"cannot read measurement sidecar: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != SIDECAR_FORMAT:
        raise ValidationError(source, f"not a {SIDECAR_FORMAT} file")
    if document.get("version") != SIDECAR_VERSION:
        raise ValidationError(source, f"unsupported sidecar version {document.get('version')!r}")
    records = document.get("measurements")
    if not isinstance(records, list):
        raise ValidationError(source, "'measurements' must be a list")
    try:
        return [CobbMeasurement.from_dict(record) for record in records]
    except ValidationError as exc:
        raise ValidationError(source, exc.problem) from exc
