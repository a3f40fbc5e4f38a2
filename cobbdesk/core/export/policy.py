"""Rater policies: how several raters' readings become the one analysis dataset.

The per-rater long frame (:func:`~cobbdesk.core.export.dataset.load_long`, one row per
patient × visit × rater) is what reliability work needs.  Everything else — the wide/long/
xlsx/sav exports by default and every built-in statistic — uses the **analysis dataset**:
one row per patient × visit (long) or per patient (wide), made by a policy:

* ``mean`` (default): each angle is the mean over raters of each rater's most recent
  reading at that visit (raters without a reading are ignored), rounded to
  ``MEAN_DECIMALS``; ``rater`` lists the raters averaged at either visit (``A+B``).
* a rater's name: that rater's readings only (empty where the rater measured nothing).
* ``consensus``: the adjudicated reading.  When the study has a reading plan with
  adjudication (the most recently created one when several), each film's consensus reading
  of that plan (:func:`~cobbdesk.core.reading.adjudication.consensus_readings`: the
  adjudicator's reading where the raters' round-1 readings differ by more than the plan's
  threshold, else the mean of the raters' round-1 readings; the mean of a visit's films of one
  region when it has several), the clinical measurements unused.  Otherwise the rater named
  as adjudicator in the study settings (``cobbdesk stats STUDY --set-adjudicator NAME``);
  without either the policy is refused with a message saying so.
* ``each`` (exports only): the per-rater rows, unchanged.

The study's default policy and adjudicator are kept in the study's ``meta`` table (keys
``rater_policy``, ``adjudicator``), every change recorded in the audit trail.

>>> parse_policy("mean").describe()[:34]
'each angle is the mean over raters'
>>> parse_policy("B").label
'rater B'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from sqlalchemy import select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.export.columns import REGIONS, long_columns
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.schema import meta
from cobbdesk.core.store.study import Study

if TYPE_CHECKING:  # pandas is loaded by the functions that use it (a fast export has none)
    import pandas as pd

PolicyKind = Literal["mean", "rater", "consensus", "each"]
KEYWORDS = ("mean", "each", "consensus")
MEAN_DECIMALS = 6
"""Mean angles are rounded to this many decimals; exports and statistics use the same value."""
SETTING_POLICY = "rater_policy"
SETTING_ADJUDICATOR = "adjudicator"
RATER_COLUMNS = (
    *(f"{r}_{n}" for r in REGIONS for n in ("cobb", "spacing_source", "cobb_flag", "cobb_stale",
                                            "snapped")),
    "region_mismatch",
)  # fmt: skip
"""Long columns that belong to one rater's readings (the rest are per patient or visit)."""
_KEYS = ["record_id", "event"]


class RaterPolicyError(ValidationError):
    """A rater policy that cannot be applied to this study (unknown rater, no adjudicator)."""


@dataclass(frozen=True)
class RaterPolicy:
    """``kind`` with the rater it names (a named rater, or the consensus adjudicator); a
    plan's consensus names the ``plan`` and carries its ``values``: ``(record_id, event,
    region, angle_deg)`` per visit and region with a consensus reading."""

    kind: PolicyKind
    rater: str = ""
    plan: str = ""
    values: tuple[tuple[str, str, str, float], ...] = field(default=(), compare=False, repr=False)

    @property
    def label(self) -> str:
        """Short name for tables and file notes: ``mean``, ``rater A``, ``consensus (B)``."""
        if self.kind == "rater":
            return f"rater {self.rater}"
        if self.kind == "consensus" and self.plan:
            return f"consensus (plan {self.plan})"
        if self.kind == "consensus":
            return f"consensus ({self.rater})" if self.rater else "consensus"
        return self.kind

    @property
    def text(self) -> str:
        """The policy as typed on the command line (``mean``, ``each``, ``consensus``, name)."""
        return self.rater if self.kind == "rater" else self.kind

    def describe(self) -> str:
        """One sentence for the codebook, the report and the statistics notes."""
        if self.kind == "mean":
            return "each angle is the mean over raters of each rater's most recent reading"
        if self.kind == "rater":
            return f"the most recent reading of rater {self.rater} only"
        if self.kind == "consensus" and self.plan:
            return (
                f"the consensus reading of reading plan {self.plan}: the adjudicator "
                f"{self.rater}'s reading where the raters differ by more than the plan's "
                "threshold, else the mean of the raters' round-1 readings"
            )
        if self.kind == "consensus":
            return (
                f"the adjudicated reading, i.e. the most recent reading of the study's "
                f"adjudicator {self.rater}"
            )
        return "one row per rater (per-rater data for reliability work)"


MEAN = RaterPolicy("mean")
EACH = RaterPolicy("each")


def parse_policy(text: str, *, allow_each: bool = False) -> RaterPolicy:
    """``mean``, ``consensus``, ``each`` (when allowed) or a rater's name.

    Raises RaterPolicyError for an empty name or ``each`` where it is not allowed.
    """
    name = text.strip()
    if not name:
        raise RaterPolicyError(None, "the rater policy is empty; use mean, consensus or a name")
    if name == "each" and not allow_each:
        raise RaterPolicyError(
            None, "statistics need one value per patient and visit: use --raters mean, "
            "consensus or a rater's name (each is for exports)",
        )  # fmt: skip
    keyword: dict[str, PolicyKind] = {"mean": "mean", "each": "each", "consensus": "consensus"}
    if name in keyword:
        return RaterPolicy(keyword[name])
    return RaterPolicy("rater", name)


def get_setting(study: Study, key: str) -> str | None:
    """A study setting from the ``meta`` table (None when unset)."""
    with study.engine.connect() as conn:
        value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    return None if value is None else str(value)


def set_setting(study: Study, key: str, value: str, *, reason: str = "") -> None:
    """Store a study setting in ``meta`` and record the change in the audit trail."""
    old = get_setting(study, key)
    if old == value:
        return
    with study.transaction() as conn:
        if old is None:
            conn.execute(meta.insert().values(key=key, value=value))
        else:
            conn.execute(meta.update().where(meta.c.key == key).values(value=value))
        audit_log.record(conn, study.actor, "study_setting", key, {key: (old, value)},
                         reason=reason)  # fmt: skip


def study_policy(study: Study) -> RaterPolicy:
    """The study's default policy (``mean`` when none was chosen)."""
    return parse_policy(get_setting(study, SETTING_POLICY) or "mean")


def set_study_policy(study: Study, text: str, *, reason: str = "") -> RaterPolicy:
    """Choose the study's default policy (checked against the study first)."""
    policy = resolve(study, parse_policy(text), study_raters(study))
    set_setting(study, SETTING_POLICY, policy.text, reason=reason)
    return policy


def study_raters(study: Study) -> list[str]:
    """Every rater with a live measurement in the study, sorted."""
    from cobbdesk.core.store.schema import measurements

    m = measurements.c
    query = select(m.rater).where(m.deleted_utc.is_(None), m.rater != "").distinct()
    with study.engine.connect() as conn:
        return sorted(str(r) for r in conn.execute(query).scalars())


def resolve(study: Study | None, policy: RaterPolicy, raters: list[str]) -> RaterPolicy:
    """``policy`` checked against the study's ``raters``; consensus gets its adjudicator.

    Raises RaterPolicyError naming the study's raters when a named rater measured nothing,
    or when ``consensus`` is asked for and the study names no adjudicator.
    """
    if policy.kind == "consensus" and study is not None:
        from_plan = plan_consensus(study)
        if from_plan is not None:
            return from_plan
    if policy.kind == "consensus":
        name = get_setting(study, SETTING_ADJUDICATOR) if study is not None else None
        if not name:
            raise RaterPolicyError(
                None, "--raters consensus needs an adjudicator: name one with 'cobbdesk stats "
                "STUDY --set-adjudicator NAME' or create a reading plan with adjudication",
            )  # fmt: skip
        policy = RaterPolicy("consensus", name)
    if policy.kind in ("rater", "consensus") and policy.rater not in raters:
        known = ", ".join(raters) or "none"
        raise RaterPolicyError(
            None, f"rater {policy.rater!r} has no measurement in this study (raters: {known})"
        )
    return policy


def apply_policy(long: pd.DataFrame, policy: RaterPolicy) -> pd.DataFrame:
    """The analysis dataset (one row per patient × visit) from the per-rater long frame.

    Same columns as the long layout; ``rater`` names the raters whose readings were used for
    the patient (either visit).  ``each`` returns ``long`` unchanged.
    """
    if policy.kind == "each":
        return long
    if policy.kind == "consensus" and policy.plan:
        frame = _plan_consensus(long, policy)
    elif policy.kind == "mean":
        frame = _mean_of_raters(long)
    else:
        frame = _one_rater(long, policy.rater)
    frame = frame.sort_values(["record_id", "event"], key=_event_order, kind="stable")
    from cobbdesk.core.export.dataset import conform

    return conform(frame.reset_index(drop=True), list(_columns(long)))


def plan_consensus(study: Study) -> RaterPolicy | None:
    """The consensus policy of the study's most recent reading plan with adjudication (None
    when no plan has adjudication); its values are per ``(record_id, event, region)``."""
    from cobbdesk.core.reading.adjudication import consensus_readings
    from cobbdesk.core.reading.plan import list_plans
    from cobbdesk.core.store.schema import films, patients, visits

    plans = [p for p in list_plans(study) if p.adjudicate_above_deg is not None and p.adjudicator]
    if not plans:
        return None
    plan = plans[-1]
    angles = consensus_readings(study, plan)
    query = (
        select(films.c.id, patients.c.study_id, visits.c.kind, films.c.region)
        .join(visits, visits.c.id == films.c.visit_id)
        .join(patients, patients.c.id == visits.c.patient_id)
        .where(films.c.id.in_(list(angles)))
    )
    by_key: dict[tuple[str, str, str], list[float]] = {}
    with study.engine.connect() as conn:
        for film_id, record_id, event, region in conn.execute(query):
            by_key.setdefault((str(record_id), str(event), str(region)), []).append(
                angles[int(film_id)]
            )
    values = tuple(sorted((*k, float(np.mean(v))) for k, v in by_key.items()))
    return RaterPolicy("consensus", plan.adjudicator or "", plan.name, values)


def _plan_consensus(long: pd.DataFrame, policy: RaterPolicy) -> pd.DataFrame:
    """One row per patient × visit with the plan's consensus angles (labs kept, rater
    ``consensus:PLAN`` for patients with a consensus reading, clinical readings unused)."""
    import pandas as pd

    frame = _blank(long.drop_duplicates(_KEYS))
    keys = list(zip(frame["record_id"].astype(str), frame["event"].astype(str), strict=True))
    for region in REGIONS:
        lookup = {(r, e): v for r, e, g, v in policy.values if g == region}
        column = [lookup.get(k, np.nan) for k in keys]
        frame[f"{region}_cobb"] = pd.Series(column, index=frame.index, dtype=float).round(
            MEAN_DECIMALS
        )
    measured = frame[[f"{r}_cobb" for r in REGIONS]].notna().any(axis=1)
    has = measured.groupby(frame["record_id"]).transform("any")
    frame["rater"] = np.where(has, f"consensus:{policy.plan}", "")
    return frame


def _columns(long: pd.DataFrame) -> list:
    identified = "name" in long.columns
    return long_columns(identified)


def _event_order(series: pd.Series) -> pd.Series:
    if series.name == "event":
        return series.map({"admission": 0, "month3": 1})
    return series


def _patient_raters(rows: pd.DataFrame, long: pd.DataFrame) -> pd.Series:
    """Per record_id: ``+``-joined sorted raters present in ``rows`` (index: every patient)."""
    import pandas as pd

    named = rows.loc[rows["rater"] != "", ["record_id", "rater"]].drop_duplicates()
    several = named["record_id"].duplicated(keep=False)
    joined = named[~several].set_index("record_id")["rater"]
    if several.any():  # only patients with several raters are joined in Python
        by_patient = named[several].sort_values("rater").groupby("record_id")["rater"]
        joined = pd.concat([joined, by_patient.agg("+".join)])
    return joined.reindex(long["record_id"].unique()).fillna("")


def _blank(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without any rater's readings (a visit that exists keeps 0 mismatches)."""
    out = frame.copy()
    for name in RATER_COLUMNS:
        if name == "region_mismatch":
            out[name] = out[name].where(out[name].isna(), 0)
        elif name.endswith(("_cobb", "_snapped")):
            out[name] = np.nan
        else:
            out[name] = ""
    return out


def _one_rater(long: pd.DataFrame, rater: str) -> pd.DataFrame:
    """That rater's rows; patient × visit rows without them keep labs and blank angles."""
    import pandas as pd

    own = long[long["rater"] == rater]
    first = long.drop_duplicates(_KEYS)
    have = pd.MultiIndex.from_frame(own[_KEYS])
    missing = first[~pd.MultiIndex.from_frame(first[_KEYS]).isin(have)]
    frame = pd.concat([own, _blank(missing)], ignore_index=True)
    raters = _patient_raters(own, long)
    frame["rater"] = frame["record_id"].map(raters).fillna("")
    return frame


def _join_text(values: pd.Series) -> str:
    """The distinct ``;``-separated codes of ``values``, in order of appearance."""
    parts: list[str] = []
    for value in values:
        for part in str(value).split(";"):
            if part and part not in parts:
                parts.append(part)
    return ";".join(parts)


def _joined(multi: pd.DataFrame, column: str, index: pd.MultiIndex) -> pd.Series:
    """Per group of ``index``: the one non-empty text, or the codes of several joined.

    Vectorised for the usual case (every rater's film has the same spacing source, flags
    and stale reasons are rare); only groups with different texts are joined in Python.
    """
    import pandas as pd

    texts = multi.loc[multi[column] != "", [*_KEYS, column]].drop_duplicates()
    several = texts.duplicated(_KEYS, keep=False)
    one = texts[~several].set_index(_KEYS)[column]
    if several.any():
        joined = texts[several].groupby(_KEYS, sort=False)[column].agg(_join_text)
        one = pd.concat([one, joined])
    return one.reindex(index).fillna("")


def _mean_of_raters(long: pd.DataFrame) -> pd.DataFrame:
    """Mean angles per patient × visit; text notes joined, snapped max, mismatches summed."""
    import pandas as pd

    sizes = long.groupby(_KEYS, sort=False)["rater"].transform("size")
    single = long[sizes == 1]
    multi = long[sizes > 1]
    if not multi.empty:
        merged = multi.drop_duplicates(_KEYS).set_index(_KEYS)
        grouped = multi.groupby(_KEYS, sort=False)
        for region in REGIONS:
            merged[f"{region}_cobb"] = grouped[f"{region}_cobb"].mean()
            merged[f"{region}_snapped"] = grouped[f"{region}_snapped"].max()
            for name in ("spacing_source", "cobb_flag", "cobb_stale"):
                merged[f"{region}_{name}"] = _joined(multi, f"{region}_{name}", merged.index)
        present = grouped["region_mismatch"].count() > 0
        merged["region_mismatch"] = grouped["region_mismatch"].sum().where(present)
        single = pd.concat([single, merged.reset_index()], ignore_index=True)
    else:
        single = single.copy()
    for region in REGIONS:
        single[f"{region}_cobb"] = single[f"{region}_cobb"].astype(float).round(MEAN_DECIMALS)
    single["rater"] = single["record_id"].map(_patient_raters(long, long)).fillna("")
    return single
