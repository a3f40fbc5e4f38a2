"""Patients are listed for a user in natural study-ID order (#17), on both back ends; exports
keep their own order (the analysis contract)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cobbdesk.core.store import Study
from cobbdesk.core.store.ordering import by_study_id, study_id_key
from cobbdesk.core.store.overview import patient_list, patient_rows

# Natural order written out by hand: digit runs as numbers (2 < 10 < 10000 < 10001 < 100000),
# text case-insensitively, exact text breaking ties ("P010" < "P10": "0" sorts before "1").
NATURAL = ["A7", "P2", "p3", "P010", "P10", "P10000", "P10001", "P100000", "P100000b",
           "Q-1-2", "Q-1-10", "Q-2"]  # fmt: skip


def test_study_id_key_orders_by_hand() -> None:
    shuffled = NATURAL[::2] + NATURAL[1::2][::-1]
    assert sorted(shuffled, key=study_id_key) == NATURAL
    assert sorted(NATURAL) != NATURAL  # text order differs: P100000 before P2


@pytest.mark.parametrize("study_id", ["", "123", "007", "x", "1a2b3", "ÄÖ9", "P-½-²"])
def test_study_id_key_compares_any_ids_without_type_errors(study_id: str) -> None:
    others = [study_id_key(other) for other in NATURAL]
    key = study_id_key(study_id)
    assert all(isinstance(key < other, bool) for other in others)
    assert key[0][0::2] == tuple(str(t) for t in key[0][0::2])  # text at even places


def test_ties_are_broken_by_the_exact_id() -> None:
    assert study_id_key("P010")[0] == study_id_key("P10")[0]
    assert sorted(["P10", "P010"], key=study_id_key) == ["P010", "P10"]
    assert sorted(["p1", "P1"], key=study_id_key) == ["P1", "p1"]
    assert by_study_id([("P10", 1), ("P9", 2), ("P10", 0)], lambda i: i[0]) == [
        ("P9", 2), ("P10", 1), ("P10", 0)]  # fmt: skip


def test_patients_are_listed_in_natural_order(study_location: Callable[[str], object]) -> None:
    with Study.create(study_location("natural.cobbdesk"), actor="t") as study:
        for study_id in sorted(NATURAL):  # inserted in text order
            study.add_patient(study_id)
        assert [r.study_id for r in patient_list(study)] == NATURAL
        assert [r.study_id for r in patient_rows(study)] == NATURAL
        assert [p.study_id for p in study.patients()] == NATURAL
        assert [po.patient.study_id for po in study.overview()] == NATURAL
