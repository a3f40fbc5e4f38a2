"""The study schema (SQLAlchemy Core; portable SQL only — SQLite specifics live in ``dialect``).

Times are UTC ISO-8601 strings; dates ISO ``YYYY-MM-DD``.  Rows are never deleted: a deletion
sets ``deleted_utc`` (and is audited with its reason).  ``measurements.angle_deg`` is a cache of
the angle recomputed from the stored points by ``algorithm_version``; the points are the truth.
Editable rows carry ``version`` (bumped by every update, see ``conflicts``); ``meta`` holds
``schema_version`` and ``audit_head`` (``"<rows>:<last hash>"``, see ``audit``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Version written by this code; ``migrations`` brings older files up to it.
SCHEMA_VERSION = 5

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

patients = Table(
    "patients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("study_id", String(64), nullable=False, unique=True),
    Column("dicom_patient_id", String(64), index=True),
    Column("name", Text),
    Column("mrn", String(64)),
    Column("birth_date", String(10)),
    Column("sex", String(1), CheckConstraint("sex IN ('F', 'M', 'O')")),
    Column("dose_mg_kg_day", Float, CheckConstraint("dose_mg_kg_day >= 0")),
    Column("duration_months", Float, CheckConstraint("duration_months >= 0")),
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
    # version 4: optimistic concurrency (see ``conflicts``)
    Column("version", Integer, nullable=False, default=1, server_default="1"),
)

visits = Table(
    "visits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("patient_id", Integer, ForeignKey("patients.id"), nullable=False, index=True),
    Column(
        "kind",
        String(16),
        CheckConstraint("kind IN ('admission', 'month3', 'other')"),
        nullable=False,
    ),
    Column("label", String(64), nullable=False, default=""),
    Column("visit_date", String(10)),
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
    # version 4: optimistic concurrency (see ``conflicts``)
    Column("version", Integer, nullable=False, default=1, server_default="1"),
    UniqueConstraint("patient_id", "kind", "label", name="uq_visit_kind"),
)

films = Table(
    "films",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("visit_id", Integer, ForeignKey("visits.id"), nullable=False, index=True),
    Column("sop_instance_uid", String(64), nullable=False, unique=True),
    Column("pixel_sha256", String(64)),
    Column("path", Text, nullable=False),
    Column(
        "region",
        String(16),
        CheckConstraint("region IN ('cervical', 'lumbar', 'unknown')"),
        nullable=False,
    ),
    Column("view", String(16), nullable=False, default=""),
    Column("study_date", String(10)),
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
    # version 2
    Column("pixel_rows", Integer),
    Column("pixel_columns", Integer),
    # version 3: which way the patient faces, and the pixel shape when there is no spacing
    Column("facing", String(8), CheckConstraint("facing IN ('left', 'right')")),
    Column("facing_source", String(16)),
    Column("pixel_aspect_row", Float),
    Column("pixel_aspect_col", Float),
    # version 4: optimistic concurrency (see ``conflicts``)
    Column("version", Integer, nullable=False, default=1, server_default="1"),
)
Index("ix_films_pixel_sha256", films.c.pixel_sha256)  # version 2


def _measurement_columns() -> list[Column[Any]]:
    """The columns of a measurement (new objects per call: a Column belongs to one table).

    Shared by ``measurements`` (clinical) and ``readings`` (reading plans), so the two can
    never drift apart.
    """
    return [
        Column("id", String(36), primary_key=True),
        Column("film_id", Integer, ForeignKey("films.id"), nullable=False, index=True),
        Column("rater", String(64), nullable=False),
        Column("template", String(8), nullable=False),
        *(
            Column(f"{line}_{end}_{axis}", Float, nullable=False)
            for line in ("upper", "lower")
            for end in ("anterior", "posterior")
            for axis in ("x", "y")
        ),
        Column("spacing_row_mm", Float),
        Column("spacing_col_mm", Float),
        Column("spacing_source", String(32), nullable=False),
        Column("angle_deg", Float, nullable=False),
        Column("algorithm_version", String(16), nullable=False),
        Column("created_utc", String(32), nullable=False),
        Column("updated_utc", String(32), nullable=False),
        Column("deleted_utc", String(32)),
        # version 3: snapping provenance and the pixel shape of uncalibrated films
        Column("upper_snapped", Integer, nullable=False, default=0, server_default="0"),
        Column("lower_snapped", Integer, nullable=False, default=0, server_default="0"),
        Column("pixel_aspect_row", Float),
        Column("pixel_aspect_col", Float),
        # version 4: optimistic concurrency (see ``conflicts``)
        Column("version", Integer, nullable=False, default=1, server_default="1"),
    ]


measurements = Table("measurements", metadata, *_measurement_columns())

#: A user's calibration of a film: a line over an object of known length (version 3).
calibrations = Table(
    "calibrations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("film_id", Integer, ForeignKey("films.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # "ruler", "ball", ...
    Column("x1", Float, nullable=False),
    Column("y1", Float, nullable=False),
    Column("x2", Float, nullable=False),
    Column("y2", Float, nullable=False),
    Column("length_mm", Float, CheckConstraint("length_mm > 0"), nullable=False),
    Column("spacing_row_mm", Float, nullable=False),
    Column("spacing_col_mm", Float, nullable=False),
    Column("rater", String(64), nullable=False),
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
)

labs = Table(
    "labs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("visit_id", Integer, ForeignKey("visits.id"), nullable=False, index=True),
    Column("name", String(16), nullable=False),
    Column("value_num", Float),
    Column("value_text", String(16)),
    Column("unit", String(16), nullable=False, default=""),
    Column("updated_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
    # version 4: optimistic concurrency (see ``conflicts``)
    Column("version", Integer, nullable=False, default=1, server_default="1"),
    UniqueConstraint("visit_id", "name", name="uq_lab_per_visit"),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("utc", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("rater", String(64), nullable=False, default=""),
    Column("entity", String(32), nullable=False),
    Column("entity_id", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("reason", Text, nullable=False, default=""),
    Column("app_version", String(16), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Columns added by migration to version 2 (kept for the migration code and its test).
V2_FILM_COLUMNS = (films.c.pixel_rows, films.c.pixel_columns)
#: Columns added by migration to version 3.
V3_FILM_COLUMNS = (
    films.c.facing, films.c.facing_source, films.c.pixel_aspect_row, films.c.pixel_aspect_col,
)  # fmt: skip
V3_MEASUREMENT_COLUMNS = (
    measurements.c.upper_snapped, measurements.c.lower_snapped,
    measurements.c.pixel_aspect_row, measurements.c.pixel_aspect_col,
)  # fmt: skip
#: Tables given a ``version`` column by migration to version 4.
V4_VERSIONED = (patients, visits, films, measurements, labs)

# --- version 5: reading plans (reliability studies, :mod:`cobbdesk.core.reading`) ---------
#: A reading plan: which films, raters, rounds, washout, blinding and adjudication.
reading_plans = Table(
    "reading_plans",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("region", String(16), CheckConstraint("region IN ('cervical', 'lumbar', 'both')"),
           nullable=False),
    Column("sample_patients", Integer),  # None: every patient
    Column("seed", Integer, nullable=False),
    Column("raters", Text, nullable=False),  # comma-separated, in the order given
    Column("rounds", Integer, CheckConstraint("rounds >= 1"), nullable=False),
    Column("washout_days", Integer, CheckConstraint("washout_days >= 0"), nullable=False),
    Column("adjudicate_above_deg", Float),
    Column("adjudicator", String(64)),
    Column("snapping", Integer, nullable=False, default=0, server_default="0"),
    Column("blinding", Text, nullable=False),  # JSON {option: true/false}
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
)  # fmt: skip

#: One film at one position of one rater x round worklist (round 0: the adjudicator's list).
plan_items = Table(
    "plan_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, ForeignKey("reading_plans.id"), nullable=False, index=True),
    Column("rater", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("film_id", Integer, ForeignKey("films.id"), nullable=False),
    UniqueConstraint("plan_id", "rater", "round", "position", name="uq_plan_item_position"),
    UniqueConstraint("plan_id", "rater", "round", "film_id", name="uq_plan_item_film"),
)

#: A rater's round opened (``override_reason``: opened before the washout had passed).
plan_rounds = Table(
    "plan_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, ForeignKey("reading_plans.id"), nullable=False, index=True),
    Column("rater", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("opened_utc", String(32), nullable=False),
    Column("override_reason", Text),
    UniqueConstraint("plan_id", "rater", "round", name="uq_plan_round"),
)

#: Readings: measurements made in a plan (same columns as ``measurements`` plus the plan,
#: round and kind); never shown in clinical views, never exported as clinical values.
readings = Table(
    "readings",
    metadata,
    *_measurement_columns(),
    Column("plan_id", Integer, ForeignKey("reading_plans.id"), nullable=False, index=True),
    Column("round", Integer, nullable=False),  # 0: adjudication
    Column("kind", String(16), CheckConstraint("kind IN ('reading', 'adjudication')"),
           nullable=False),
)  # fmt: skip

#: A worklist film skipped by its rater, with the reason (unreadable, level not visible, ...).
reading_skips = Table(
    "reading_skips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, ForeignKey("reading_plans.id"), nullable=False, index=True),
    Column("rater", String(64), nullable=False),
    Column("round", Integer, nullable=False),
    Column("film_id", Integer, ForeignKey("films.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_utc", String(32), nullable=False),
    Column("deleted_utc", String(32)),
)
#: Tables created by migration to version 5.
V5_TABLES = (reading_plans, plan_items, plan_rounds, readings, reading_skips)
