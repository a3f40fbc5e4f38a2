"""Seeded worklist orders: one random order per rater × round, never two films of one patient
next to each other.

The order of a worklist depends only on the plan's seed, the rater's name, the round and the
films (their ids and patients): :func:`worklist_order` is reproducible across runs and machines
(:class:`random.Random` seeded with a string hashes it with SHA-512, independent of
``PYTHONHASHSEED``), and differs between raters and rounds.

The construction draws one film at a time, each patient with probability proportional to its
films still to place (so that without the constraint it is a uniform shuffle), among the
patients that keep the rest placeable: after drawing patient ``p`` with ``r - 1`` films left,
``p`` may hold at most ``⌊(r − 1)/2⌋`` of them (it cannot come next) and any other patient at
most ``⌈(r − 1)/2⌉`` — the classic condition for arranging a multiset with no two equal
neighbours.

>>> films = [(1, 10), (2, 10), (3, 11), (4, 11), (5, 12), (6, 12)]
>>> order = worklist_order(films, seed=7, rater="A", round_no=1)
>>> sorted(order) == [1, 2, 3, 4, 5, 6], order == worklist_order(films, 7, "A", 1)
(True, True)
>>> patient = dict(films)
>>> any(patient[a] == patient[b] for a, b in zip(order, order[1:]))
False
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from cobbdesk.core.errors import ValidationError


def order_seed(seed: int, rater: str, round_no: int) -> str:
    """The string that seeds the order of one rater × round (recorded with the plan's seed)."""
    return f"cobbdesk-worklist:{seed}:{rater}:{round_no}"


def placeable(counts: Sequence[int]) -> bool:
    """True when films with these per-patient counts can be ordered with no two of one patient
    adjacent: the largest count is at most ``⌈n/2⌉``."""
    total = sum(counts)
    return not counts or max(counts) <= (total + 1) // 2


def worklist_order(
    films: Sequence[tuple[int, int]], seed: int, rater: str, round_no: int
) -> list[int]:
    """The film ids of ``films`` (``(film_id, patient_id)`` pairs) in the worklist's order.

    Raises ValidationError when no order keeps one patient's films apart (one patient holds
    more than half of the films, rounded up).
    """
    counts: dict[int, int] = defaultdict(int)
    for _, patient in films:
        counts[patient] += 1
    if not placeable(list(counts.values())):
        raise ValidationError(
            None, f"the worklist cannot keep one patient's films apart: one patient has "
            f"{max(counts.values())} of the {len(films)} films; add patients or films",
        )  # fmt: skip
    rng = random.Random(order_seed(seed, rater, round_no))
    queues: dict[int, list[int]] = defaultdict(list)
    for film_id, patient in sorted(films):
        queues[patient].append(film_id)
    for patient in sorted(queues):
        rng.shuffle(queues[patient])
    order: list[int] = []
    previous: int | None = None
    while len(order) < len(films):
        patient = _draw(rng, counts, previous, len(films) - len(order))
        order.append(queues[patient].pop())
        counts[patient] -= 1
        previous = patient
    return order


def _draw(rng: random.Random, counts: dict[int, int], previous: int | None, left: int) -> int:
    """One patient to place next (module rule), with probability ∝ its films left."""
    rest = left - 1
    top = sorted(((c, p) for p, c in counts.items() if c > 0), reverse=True)[:2]
    allowed: list[int] = []
    weights: list[int] = []
    for patient in sorted(counts):
        count = counts[patient]
        if count == 0 or patient == previous:
            continue
        other_max = next((c for c, p in top if p != patient), 0)
        if count - 1 <= rest // 2 and other_max <= (rest + 1) // 2:
            allowed.append(patient)
            weights.append(count)
    return rng.choices(allowed, weights=weights)[0]


__all__ = ["order_seed", "placeable", "worklist_order"]
