"""The measurement model: validation, derived angle, dict/CSV/sidecar round trips."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.errors import GeometryError, ValidationError
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import (
    ALGORITHM_VERSION,
    CONVENTION,
    CobbMeasurement,
    EndplateLine,
    LineName,
    PointName,
    Template,
)
from cobbdesk.core.measure.measurement_files import (
    CSV_COLUMNS,
    load_sidecar,
    save_sidecar,
    sidecar_path,
    write_measurements_csv,
)

SHA = "ab" * 32


def make(**overrides: object) -> CobbMeasurement:
    values: dict[str, object] = {
        "sop_instance_uid": "1.2.826.0.1.3680043.8.498.1",
        "pixel_sha256": SHA,
        "template": "C2-C7",
        "upper": EndplateLine((100, 100), (140, 110)),
        "lower": EndplateLine((100, 300), (140, 290)),
        "spacing": (0.1, 0.2),
        "spacing_source": "PixelSpacing",
        "rater": "Zoë Müller",
    }
    values.update(overrides)
    return CobbMeasurement(**values)  # type: ignore[arg-type]


def test_strings_are_coerced_to_enums() -> None:
    m = make()
    assert m.template is Template.C2_C7
    assert m.spacing_source is SpacingSource.PIXEL_SPACING
    assert m.algorithm_version == ALGORITHM_VERSION
    assert m.updated_utc == m.created_utc
    assert len(m.id) == 36


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"template": "T1-T12"}, "T1-T12"),
        ({"spacing_source": "guess"}, "guess"),
        ({"spacing": None}, "contradicts"),
        ({"spacing_source": "none"}, "contradicts"),
        ({"spacing": (0.0, 0.1)}, "positive"),
        ({"spacing": ("a", 1)}, "spacing"),
        ({"pixel_sha256": "xyz"}, "64"),
        ({"id": ""}, "empty"),
        ({"created_utc": "yesterday"}, "ISO"),
        ({"created_utc": "2026-01-01T10:00:00"}, "UTC offset"),
        ({"upper": ((0, 0), (1, 1))}, "EndplateLine"),
    ],
)
def test_invalid_values_are_refused(overrides: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        make(**overrides)


def test_zero_length_line_is_a_geometry_error_naming_the_level() -> None:
    with pytest.raises(GeometryError, match="C7 inferior endplate"):
        make(lower=EndplateLine((5, 5), (5, 5)))


def test_endplate_line_validates_points() -> None:
    assert EndplateLine([1, "2"], (3, 4)).anterior == (1.0, 2.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="anterior point"):
        EndplateLine((1,), (3, 4))  # type: ignore[arg-type]


def test_angle_is_derived_from_points_with_spacing() -> None:
    m = make()
    assert m.angle == cobb_angle(m.upper.as_tuple(), m.lower.as_tuple(), (0.1, 0.2))
    moved = m.with_point("upper.posterior", (140, 100))
    assert moved.angle != m.angle
    assert moved.updated_utc >= m.updated_utc and moved.created_utc == m.created_utc
    assert m.units == "mm-based" and m.convention == CONVENTION
    uncalibrated = make(spacing=None, spacing_source="none")
    assert uncalibrated.units == "pixel-based; uncalibrated"
    assert uncalibrated.angle == pytest.approx(28.0725, abs=1e-4)


def test_point_and_line_access() -> None:
    m = make()
    assert m.point(PointName.LOWER_ANTERIOR) == (100.0, 300.0)
    assert PointName.UPPER_ANTERIOR.partner is PointName.UPPER_POSTERIOR
    shifted = m.with_line_moved(LineName.LOWER, 3, -2)
    assert shifted.lower == EndplateLine((103, 298), (143, 288)) and shifted.upper == m.upper


def test_templates_have_prompts_levels_and_bone_sides() -> None:
    assert Template("L1-S1").prompts == (
        "L1 superior endplate: click the anterior corner",
        "L1 superior endplate: click the posterior corner",
        "S1 superior endplate: click the anterior corner",
        "S1 superior endplate: click the posterior corner",
    )
    assert Template.C2_C7.levels == ("C2 inferior endplate", "C7 inferior endplate")
    assert Template.C2_C7.bone_sides == ("above", "above")
    assert Template.L1_S1.bone_sides == ("below", "below")
    assert Template.FREE.bone_sides == (None, None)


def test_dict_round_trip_through_json() -> None:
    for m in (make(), make(spacing=None, spacing_source="none", template="FREE")):
        data = json.loads(json.dumps(m.to_dict()))
        assert CobbMeasurement.from_dict(data) == m
        assert data["angle_deg"] == pytest.approx(m.angle)


def test_from_dict_reports_missing_keys() -> None:
    data = make().to_dict()
    del data["upper"]
    with pytest.raises(ValidationError, match="incomplete"):
        CobbMeasurement.from_dict(data)


def test_csv_export(tmp_path: Path) -> None:
    rows_in = [make(), make(spacing=None, spacing_source="none", template="L1-S1")]
    path = write_measurements_csv(rows_in, tmp_path / "out.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert len(rows) == 2
    assert rows[0]["rater"] == "Zoë Müller"
    assert float(rows[0]["angle_deg"]) == pytest.approx(rows_in[0].angle, abs=1e-4)
    assert rows[0]["spacing_row_mm"] == "0.1" and rows[0]["spacing_col_mm"] == "0.2"
    assert rows[1]["spacing_row_mm"] == "" and rows[1]["units"] == "pixel-based; uncalibrated"
    assert rows[1]["template"] == "L1-S1" and rows[1]["lower_posterior_y"] == "290.0"
    assert rows[0]["convention"] == CONVENTION


def test_sidecar_round_trip(tmp_path: Path) -> None:
    film = tmp_path / "lateral ç.dcm"
    film.write_bytes(b"")
    assert load_sidecar(film) == []
    ms = [make(), make(template="FREE")]
    written = save_sidecar(ms, film)
    assert written == sidecar_path(film) == tmp_path / "lateral ç.dcm.cobbdesk.json"
    assert load_sidecar(film) == ms
    assert sorted(p.name for p in tmp_path.iterdir()) == [film.name, written.name]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "cannot read"),
        ('{"format": "other"}', "not a cobbdesk-measurements"),
        ('{"format": "cobbdesk-measurements", "version": 99}', "version"),
        ('{"format": "cobbdesk-measurements", "version": 1, "measurements": 3}', "list"),
        ('{"format": "cobbdesk-measurements", "version": 1, "measurements": [{}]}', "incomplete"),
    ],
)
def test_bad_sidecars_are_refused(tmp_path: Path, content: str, match: str) -> None:
    film = tmp_path / "a.dcm"
    sidecar_path(film).write_text(content, encoding="utf-8")
    with pytest.raises(ValidationError, match=match) as info:
        load_sidecar(film)
    assert info.value.path == sidecar_path(film)


def test_replace_revalidates() -> None:
    with pytest.raises(ValidationError):
        replace(make(), spacing=None)
