"""Film corrections (region, visit, facing) and the film-region rules of the overview."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Region, Study, VisitKind
from cobbdesk.core.store.films import visit_key
from cobbdesk.core.store.schema import audit


def _m(template: Template = Template.C2_C7, sop: str = "1.2.3") -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=sop, pixel_sha256="", template=template,
        upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (140.0, 290.0)), rater="A",
    )  # fmt: skip


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[Study]:
    s = Study.create(study_location("films.cobbdesk"), actor="dr_a")
    yield s
    s.close()


@pytest.fixture
def film_id(study: Study) -> int:
    pid = study.add_patient("P0001", name="Doe^Jane")
    vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
    return study.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="unknown")


def _audit(study: Study, entity: str = "film") -> list[tuple[str, str | None, str | None, str]]:
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(audit.c.field, audit.c.old_value, audit.c.new_value, audit.c.reason)
            .where(audit.c.entity == entity)
            .order_by(audit.c.seq)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_change_region_is_audited_with_reason(study: Study, film_id: int) -> None:
    change = study.change_film(film_id, region="cervical", reason="body part was wrong")
    assert change.changes == {"region": ("unknown", "cervical")}
    assert study.film(film_id).region is Region.CERVICAL
    assert _audit(study)[-1] == ("region", "unknown", "cervical", "body part was wrong")
    assert study.verify_audit().ok


@pytest.mark.parametrize("reason", ["", "   "])
def test_change_film_needs_a_reason(study: Study, film_id: int, reason: str) -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        study.change_film(film_id, region="cervical", reason=reason)
    assert study.film(film_id).region is Region.UNKNOWN


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"region": "thoracic"}, "region must be one of"),
        ({"facing": "up"}, "facing must be one of"),
        ({"facing": "left", "facing_source": "guess"}, "facing source must be one of"),
        ({"visit": ""}, "name the visit"),
        ({"visit": "other"}, "name the visit"),
        ({"visit": "x" * 65}, "longer than 64"),
    ],
)
def test_unknown_values_are_refused(
    study: Study, film_id: int, kwargs: dict[str, str], message: str
) -> None:
    before = len(_audit(study))
    with pytest.raises(ValidationError, match=message):
        study.change_film(film_id, reason="fix", **kwargs)  # type: ignore[arg-type]
    assert len(_audit(study)) == before


def test_unknown_film_is_refused(study: Study, film_id: int) -> None:
    with pytest.raises(ValidationError, match="no film with id 999"):
        study.change_film(999, region="lumbar", reason="fix")


def test_move_to_month3_creates_the_visit_once(study: Study, film_id: int) -> None:
    pid = study.patients()[0].id
    first = study.change_film(film_id, visit="month3", reason="dated wrongly")
    assert first.new_visit is not None and first.new_visit.kind is VisitKind.MONTH3
    assert first.old_visit.kind is VisitKind.ADMISSION and first.visit == first.new_visit
    assert study.film(film_id).visit_id == first.new_visit.id
    assert study.visit(pid, "month3") == first.new_visit
    back = study.change_film(film_id, visit="admission", reason="it was admission after all")
    assert back.new_visit is None and back.visit.kind is VisitKind.ADMISSION
    again = study.change_film(film_id, visit="month3", reason="no, month 3")
    assert again.new_visit is None and again.visit.id == first.new_visit.id
    assert [v.kind for v in study.visits(pid)].count(VisitKind.MONTH3) == 1
    visit_rows = _audit(study, "visit")
    assert ("kind", None, "month3", "dated wrongly") in visit_rows


def test_label_visit_of_the_same_patient(study: Study, film_id: int) -> None:
    other = study.add_patient("P0002")
    study.add_visit(other, "other", label="week 6")
    change = study.change_film(film_id, visit="week 6", reason="follow-up film")
    assert change.new_visit is not None
    assert change.new_visit.patient_id == study.patients()[0].id
    assert (change.new_visit.kind, change.new_visit.label) == (VisitKind.OTHER, "week 6")


def test_visit_key() -> None:
    assert visit_key("admission") == (VisitKind.ADMISSION, "")
    assert visit_key(" week 6 ") == (VisitKind.OTHER, "week 6")


def test_several_changes_are_one_transaction(study: Study, film_id: int) -> None:
    change = study.change_film(
        film_id, region="lumbar", facing="right", visit="month3", reason="checked the film"
    )
    assert set(change.changes) == {"region", "facing", "facing_source", "visit_id"}
    film = study.film(film_id)
    assert (film.region, film.facing, film.facing_source) == (Region.LUMBAR, "right", "user")
    unchanged = study.change_film(film_id, region="lumbar", reason="no-op")
    assert unchanged.changes == {}


def test_set_facing_first_time_needs_no_reason(study: Study, film_id: int) -> None:
    change = study.set_facing(film_id, "left", "estimate")
    assert change.changes == {"facing": (None, "left"), "facing_source": (None, "estimate")}
    assert _audit(study)[-2:] == [("facing", None, "left", ""),
                                  ("facing_source", None, "estimate", "")]  # fmt: skip
    # confirming the estimate: same facing, the source becomes the user's; no reason needed
    study.set_facing(film_id, "left", "user")
    assert study.film(film_id).facing_source == "user"


def test_changing_a_known_facing_needs_a_reason(study: Study, film_id: int) -> None:
    study.set_facing(film_id, "left", "user")
    with pytest.raises(ValidationError, match="facing from left needs a reason"):
        study.set_facing(film_id, "right", "user")
    with pytest.raises(ValidationError, match="needs a reason"):
        study.set_facing(film_id, None, "user")
    with pytest.raises(ValidationError, match="user's facing confirmation"):
        study.set_facing(film_id, "left", "estimate")
    study.set_facing(film_id, "right", "user", reason="film was mirrored")
    assert study.film(film_id).facing == "right"
    assert _audit(study)[-1][3] == "film was mirrored"


def test_region_change_reports_mismatched_measurements(study: Study, film_id: int) -> None:
    study.save_measurement(film_id, _m(Template.C2_C7))
    assert study.change_film(film_id, region="lumbar", reason="x").mismatched == 1
    assert study.change_film(film_id, region="cervical", reason="y").mismatched == 0


def test_overview_counts_measurements_under_their_template_region(
    study: Study, film_id: int
) -> None:
    """A C2–C7 measurement on a region-unknown or lumbar film is no lumbar ✓."""
    study.save_measurement(film_id, _m(Template.C2_C7))
    visit = study.overview()[0].visits[0]
    assert visit.measured[film_id] == 0 and visit.mismatched == {film_id: 1}
    study.change_film(film_id, region="lumbar", reason="x")
    visit = study.overview()[0].visits[0]
    assert visit.measured[film_id] == 0 and visit.mismatched == {film_id: 1}
    assert "lumbar measurement" in visit.missing()
    study.change_film(film_id, region="cervical", reason="y")
    visit = study.overview()[0].visits[0]
    assert visit.measured[film_id] == 1 and visit.mismatched == {}


def test_free_measurement_counts_only_on_a_region_unknown_film(study: Study, film_id: int) -> None:
    study.save_measurement(film_id, _m(Template.FREE))
    assert study.overview()[0].visits[0].measured[film_id] == 1
    study.change_film(film_id, region="cervical", reason="x")
    visit = study.overview()[0].visits[0]
    assert visit.measured[film_id] == 0 and visit.mismatched == {film_id: 1}
    assert [m.template for m in study.region_mismatches()] == ["FREE"]
