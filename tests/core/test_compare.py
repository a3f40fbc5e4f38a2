"""cobbdesk.core.compare.model and compare_store: sync maths, the difference, reading order, labels,
and saving compare-view edits (without Qt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core.compare import model as c
from cobbdesk.core.compare.saver import StudyFilmStore
from cobbdesk.core.dicom.film import Window
from cobbdesk.core.measure.commands import AddMeasurement, DeleteMeasurement, MoveLine
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.measure.session import MeasurementSession
from cobbdesk.core.store import Patient, PatientOverview, Region, Study, Visit, VisitKind
from cobbdesk.core.store.records import FilmRecord, VisitOverview
from cobbdesk.core.store.schema import audit

# --- sync maths ---------------------------------------------------------------------------


def test_zoom_keeps_screen_pixels_per_mm() -> None:
    zoom_b = c.synced_zoom(0.8, (0.2, 0.2), (0.1, 0.1))
    assert zoom_b / 0.1 == pytest.approx(0.8 / 0.2)  # screen px per mm on both


def test_center_keeps_the_physical_offset_from_the_anchor() -> None:
    centre = c.synced_center((150.0, 80.0), (100.0, 100.0), (10.0, 20.0), (0.3, 0.3), (0.15, 0.15))
    # 50 px × 0.3 mm = 15 mm right = 100 px of 0.15 mm; −20 px → −6 mm = −40 px
    assert centre == pytest.approx((110.0, -20.0))


def test_zoom_and_pan_agree_so_a_point_lands_on_the_same_screen_offset() -> None:
    sa, sb, zoom_a = (0.2, 0.1), (0.3, 0.35), 1.7
    zoom_b = c.synced_zoom(zoom_a, sa, sb)
    centre_b = c.synced_center((40.0, 70.0), (0.0, 0.0), (5.0, 5.0), sa, sb)
    screen_a = (40.0 * zoom_a, 70.0 * zoom_a)
    screen_b = ((centre_b[0] - 5.0) * zoom_b, (centre_b[1] - 5.0) * zoom_b)
    assert screen_b == pytest.approx(screen_a)


def test_anisotropic_spacing_uses_the_geometric_mean() -> None:
    assert c.pixel_size((0.1, 0.4)) == pytest.approx(0.2)
    assert c.synced_zoom(1.0, (0.1, 0.4), (0.2, 0.2)) == pytest.approx(1.0)
    assert c.anisotropy((0.1, 0.4)) == pytest.approx(2.0)
    assert c.anisotropy((0.2, 0.2)) == 1.0
    assert c.anisotropy(None) == 1.0


def test_uncalibrated_films_sync_in_pixels() -> None:
    assert c.sync_units((0.2, 0.2), None) == "px"
    assert c.sync_units(None, None) == "px"
    assert c.sync_units((0.2, 0.2), (0.3, 0.3)) == "mm"
    assert c.synced_zoom(1.3, None, (0.1, 0.1)) == 1.3
    assert c.synced_center((5.0, 6.0), (1.0, 1.0), (2.0, 2.0), (0.2, 0.2), None) == (6.0, 7.0)


def test_film_center() -> None:
    assert c.film_center(101, 51) == (50.0, 25.0)


def test_synced_window_is_relative_to_each_base() -> None:
    same = c.synced_window(Window(500, 1000), Window(500, 1000), Window(2000, 4000))
    assert (same.center, same.width) == (2000, 4000)
    narrow = c.synced_window(Window(550, 10), Window(500, 1000), Window(2000, 4000))
    assert narrow.center == pytest.approx(2200) and narrow.width == pytest.approx(40)
    tiny = c.synced_window(Window(500, 1), Window(500, 1000), Window(10, 100))
    assert tiny.width == 2.0  # stays a ramp


# --- angles -----------------------------------------------------------------------------------
def measurement(rater: str, when: str, tilt: float = 0.0, mid: str | None = None,
                uid: str = "1.2.3") -> CobbMeasurement:  # fmt: skip
    kwargs = {"id": mid} if mid else {}
    return CobbMeasurement(uid, "", "C2-C7", EndplateLine((100, 100), (140, 100 + tilt)),
                           EndplateLine((100, 300), (140, 290)), spacing=None, rater=rater,
                           created_utc=f"2026-01-0{when}T10:00:00+00:00", **kwargs)  # fmt: skip


def test_counted_measurement_is_the_raters_most_recent() -> None:
    older, newer = measurement("a", "1", mid="x"), measurement("a", "3", 5, mid="y")
    other = measurement("b", "9", mid="z")
    assert c.counted_measurement([older, newer, other], "a") is newer
    assert c.counted_measurement([other], "a") is None
    tie = measurement("a", "3", mid="z9")
    assert c.counted_measurement([newer, tie], "a") is tie  # ties: larger id


def test_delta_is_month3_minus_admission() -> None:
    assert c.delta(10.0, 14.5) == pytest.approx(4.5)
    assert c.delta(14.5, 10.0) == pytest.approx(-4.5)
    assert c.delta(None, 1.0) is None and c.delta(1.0, None) is None
    assert c.delta_text(0.04) == "Δ ±0.0°"


def test_measurement_changes() -> None:
    a, b, b2, new = (measurement("r", "1", mid="a"), measurement("r", "1", mid="b"),
                     measurement("r", "1", 7, mid="b"), measurement("r", "2", mid="n"))  # fmt: skip
    changes = c.measurement_changes({"a": a, "b": b}, {"b": b2, "n": new})
    assert changes.added == [new] and changes.adjusted == [b2] and changes.removed == [a]
    assert not c.measurement_changes({"a": a}, {"a": a})


# --- reading order ----------------------------------------------------------------------------
def film(fid: int, region: Region, uid: str = "") -> FilmRecord:
    return FilmRecord(fid, 0, uid or f"uid{fid}", None, f"/f{fid}.dcm", region)


def patient(pid: int, *kinds: VisitKind, films: dict[VisitKind, list[FilmRecord]] | None = None,
            ) -> PatientOverview:  # fmt: skip
    visits = []
    for n, kind in enumerate(kinds):
        vo = VisitOverview(Visit(pid * 10 + n, pid, kind, visit_date=f"2026-0{n + 1}-01"))
        for f in (films or {}).get(kind, []):
            vo.films.setdefault(f.region, []).append(f)
        visits.append(vo)
    return PatientOverview(Patient(pid, f"P{pid:04d}"), visits)


A, M = VisitKind.ADMISSION, VisitKind.MONTH3
CERV, LUMB = Region.CERVICAL, Region.LUMBAR


@pytest.fixture
def overview() -> list[PatientOverview]:
    full = {A: [film(1, CERV), film(2, LUMB)], M: [film(3, CERV), film(4, LUMB)]}
    second = {A: [film(5, CERV), film(6, LUMB)], M: [film(7, CERV), film(8, LUMB)]}
    return [patient(1, A, M, films=full), patient(2, A, M, films=second),
            patient(3, A, films={A: [film(9, CERV)]})]  # fmt: skip


def test_reading_order_is_region_then_patient(overview: list[PatientOverview]) -> None:
    assert c.reading_order(overview) == [(1, CERV), (2, CERV), (3, CERV),
                                         (1, LUMB), (2, LUMB), (3, LUMB)]  # fmt: skip


def test_next_item_walks_and_stops(overview: list[PatientOverview]) -> None:
    assert c.next_item(overview, 1, CERV) == (2, CERV)
    assert c.next_item(overview, 3, CERV) == (1, LUMB)  # on into the other region
    assert c.next_item(overview, 3, LUMB) is None
    assert c.next_item(overview, 1, CERV, step=-1) is None
    assert c.next_item(overview, 1, LUMB, step=-1) == (3, CERV)
    assert c.next_item(overview, None, CERV) == (1, CERV)
    assert c.next_item(overview, None, CERV, step=-1) == (3, LUMB)


def test_next_item_skips_complete_pairs(overview: list[PatientOverview]) -> None:
    measured = {5, 7, 2, 4}  # patient 2 cervical and patient 1 lumbar are complete
    assert c.next_item(overview, 1, CERV, True, measured=measured) == (3, CERV)
    assert c.next_item(overview, 3, CERV, True, measured=measured) == (2, LUMB)
    assert c.next_item(overview, 3, CERV, False, measured=measured) == (1, LUMB)
    assert not c.is_complete(overview[2], CERV, {9})  # no month-3 visit: never complete


def test_rater_measured_films(overview: list[PatientOverview]) -> None:
    ms = [measurement("a", "1", uid="uid3"), measurement("b", "1", uid="uid5"),
          measurement("a", "1", uid="unknown")]  # fmt: skip
    assert c.rater_measured_films(overview, ms, "a") == {3}


def test_slots_say_what_is_missing(overview: list[PatientOverview]) -> None:
    admission, month3 = c.slots(overview[2], CERV)
    assert admission.film is not None and admission.missing(CERV) == ""
    assert month3.visit is None and month3.missing(CERV) == "No month 3 visit"
    admission, _ = c.slots(overview[2], LUMB)
    assert admission.missing(LUMB) == "No lumbar film at admission"


def test_labels_hide_dates_when_blinded_and_offset_when_deidentified() -> None:
    adm = Visit(1, 1, A, visit_date="2026-01-05")
    m3 = Visit(2, 1, M, visit_date="2026-04-04")
    assert c.date_label(m3, adm, deidentified=True, blinded=False) == "day +89"
    assert c.date_label(adm, adm, deidentified=True, blinded=False) == "day 0"
    assert c.date_label(m3, None, deidentified=True, blinded=False) == "day ?"
    assert c.date_label(m3, adm, deidentified=False, blinded=True) == "date hidden"
    title = c.side_title(c.Slot(M, m3, None), adm, "dr_a", deidentified=False, blinded=False)
    assert title == "Month 3  ·  2026-04-04  ·  rater dr_a"
    assert c.day_offset("2026-01-01", "2026-01-05") == -4


def test_templates_and_regions() -> None:
    assert c.template_for(CERV).value == "C2-C7" and c.template_for(LUMB).value == "L1-S1"
    assert c.template_for(Region.UNKNOWN).value == "FREE"
    assert c.other_region(CERV) is LUMB and c.other_region(LUMB) is CERV


# --- saving -------------------------------------------------------------------------------------
@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "s.cobbdesk", actor="r")
    pid = s.add_patient("P0001")
    vid = s.add_visit(pid, "admission", visit_date="2026-01-05")
    s.add_film(vid, sop_instance_uid="1.2.3", path=tmp_path / "f.dcm", region="cervical")
    yield s
    s.close()


def reasons(study: Study) -> list[str]:
    with study.engine.connect() as conn:
        return [r.reason for r in conn.execute(audit.select()) if r.entity == "measurement"]


def test_study_film_store_under_the_session_policy(study: Study) -> None:
    film_id = study.films()[0].id
    saved = measurement("r", "1", mid="old")
    study.save_measurement(film_id, saved)
    film = FilmContext(400, 300, sop_instance_uid="1.2.3", rater="r")
    s = MeasurementSession(film, StudyFilmStore(study, film_id), [saved], facing="left")
    new = measurement("r", "2", mid="new")
    assert s.execute(AddMeasurement(new)).ok
    assert not s.execute(MoveLine("old", "upper", 0, 9)).ok  # settled: no reason, refused
    s.ask_reason = lambda changes: "re-read"
    assert s.execute(MoveLine("old", "upper", 0, 9)).ok
    assert {m.id: m for m in study.measurements(film_id)} == dict(s.measurements)
    assert "re-read" in reasons(study)
    s.ask_reason = lambda changes: pytest.fail("a measurement of this session needs no reason")
    assert s.execute(DeleteMeasurement("new")).ok
    assert [m.id for m in study.measurements(film_id)] == ["old"]
    assert s.undo().ok  # the soft-deleted row comes back
    assert sorted(m.id for m in study.measurements(film_id)) == ["new", "old"]
    assert any(r.startswith("deletion undone") for r in reasons(study))
    assert study.verify_audit().ok
