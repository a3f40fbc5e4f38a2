"""A measurement never moves to another film: saving a measurement whose id is another film's
is refused and nothing changes (breaker 10: a ``measure`` CSV row naming film 1 with film
5's measurement id, or two OHIF SRs with one tracking UID on two films, rewrote film 5's angle
with film 1's points — exit 0, ``verify`` ok)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study

# film 5's saved lines: upper horizontal, lower rising 40 px over 100 px: atan(40/100)
UPPER, LOWER = ((100.0, 100.0), (200.0, 100.0)), ((100.0, 300.0), (200.0, 260.0))


Line = tuple[tuple[float, float], tuple[float, float]]


def _m(sop: str, lower: Line, mid: str = "") -> CobbMeasurement:
    extra = {"id": mid} if mid else {}
    return CobbMeasurement(sop_instance_uid=sop, pixel_sha256="", template="C2-C7",
                           upper=EndplateLine(*UPPER), lower=EndplateLine(*lower), rater="dr_a",
                           **extra)  # type: ignore[arg-type]  # fmt: skip


def test_an_id_of_another_films_measurement_is_refused(
    study_location: Callable[[str], object],
) -> None:
    with Study.create(study_location("s.cobbdesk"), actor="t") as study:
        study.set_rater("dr_a")
        visit = study.add_visit(study.add_patient("P1"), "admission")
        first = study.add_film(visit, sop_instance_uid="1.2.1", path="/x/1.dcm", region="cervical")
        other = study.add_film(visit, sop_instance_uid="1.2.5", path="/x/5.dcm", region="cervical")
        saved = _m("1.2.5", LOWER)
        study.save_measurement(other, saved)
        before = [(m.id, m.angle) for m in study.measurements(other)]
        moved = _m("1.2.1", ((100.0, 300.0), (200.0, 340.0)), mid=saved.id)
        with pytest.raises(ValidationError, match="not film #"):
            study.save_measurement(first, moved, reason="a row of a CSV")
        assert [(m.id, m.angle) for m in study.measurements(other)] == before
        assert study.measurements(first) == []
