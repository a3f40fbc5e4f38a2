"""The order in which patients are listed for a user: study IDs in natural order.

A study ID is compared as a sequence of text and digit runs, each digit run as a number
(``P2 < P10 < P100000``; text order put ``P100000`` between ``P10000`` and ``P10001``), the
text runs case-insensitively; two IDs equal in that comparison (``P010`` and ``P10``, ``p1``
and ``P1``) are then ordered by their exact text, so the order is total and the same on every
run.  Used by every listing a user reads (the study browser, ``Study.patients()``,
``cobbdesk film --list``, ``cobbdesk verify``); not by exports, whose row order is part of the
analysis contract and stays as SQL gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
NaturalKey = tuple[tuple[str | int, ...], str]
"""(text and number runs: text first, alternating, always ending with text; the exact ID)."""

_DIGITS = re.compile(r"([0-9]+)")
_SIMPLE = re.compile(r"([^0-9]*)([0-9]+)").fullmatch  # "P00042": the common shape, one match


def study_id_key(study_id: str) -> NaturalKey:
    """The natural sort key of a study ID (see the module).

    Runs of ASCII digits become ints; the text between them is case-folded; the tuple always
    starts and ends with a (possibly empty) text run, so keys of any two IDs compare without
    mixing types.  The exact ID breaks ties.  Pure function, no errors for any ``str``.

    >>> sorted(["P10", "P100000", "P2", "P010", "p3", "P10000", "P10001"], key=study_id_key)
    ['P2', 'p3', 'P010', 'P10', 'P10000', 'P10001', 'P100000']
    >>> study_id_key("A-12-b3")
    (('a-', 12, '-b', 3, ''), 'A-12-b3')
    """
    simple = _SIMPLE(study_id)
    if simple is not None:
        head, digits = simple.groups()
        return (head.casefold(), int(digits), ""), study_id
    parts: list[str | int] = list(_DIGITS.split(study_id.casefold()))
    parts[1::2] = [int(run) for run in parts[1::2]]
    return tuple(parts), study_id


def by_study_id(items: Iterable[T], study_id: Callable[[T], str]) -> list[T]:
    """``items`` in natural study-ID order (stable: items of one patient keep their order).

    >>> by_study_id([("P10", 1), ("P9", 2), ("P10", 0)], lambda item: item[0])
    [('P9', 2), ('P10', 1), ('P10', 0)]
    """
    return sorted(items, key=lambda item: study_id_key(study_id(item)))


__all__ = ["NaturalKey", "by_study_id", "study_id_key"]
