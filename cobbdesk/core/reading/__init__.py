"""Reliability studies built in: reading plans, blinded seeded worklists, readings kept apart
from the clinical measurements, adjudication and the plan's statistics.

Modules: :mod:`~cobbdesk.core.reading.plan` (plans), :mod:`~cobbdesk.core.reading.worklist`
(seeded orders), :mod:`~cobbdesk.core.reading.rounds` (worklists, washout),
:mod:`~cobbdesk.core.reading.readings` (the readings store, skips),
:mod:`~cobbdesk.core.reading.adjudication` (adjudication, consensus, progress) and
:mod:`~cobbdesk.core.reading.stats` (ICC, Bland–Altman, SEM, MDC from a plan).
"""
