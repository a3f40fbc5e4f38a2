"""The store's tests run on both back ends: a SQLite file and a PostgreSQL server database.

A test asks for ``study_location`` (a factory: ``study_location("name.cobbdesk")`` gives a new
file path on SQLite, or the URL of a fresh database on the session's throwaway cluster) and is
collected once per back end.  Tests of the file itself (modes, WAL, SQLite locks, raw
``sqlite3`` tampering) are marked ``sqlite_only`` and collected for SQLite only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def study_location(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], object]:
    if request.param == "sqlite":
        return lambda name: tmp_path / name
    cluster = request.getfixturevalue("pg_cluster")
    return lambda _name: cluster.new_study_url()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the PostgreSQL instance of tests marked ``sqlite_only``; mark the others."""
    kept, dropped = [], []
    for item in items:
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("study_location")
        if backend == "postgresql" and item.get_closest_marker("sqlite_only"):
            dropped.append(item)
            continue
        if backend == "postgresql":
            item.add_marker(pytest.mark.postgres)
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
