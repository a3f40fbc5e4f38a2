"""The import's folder walk gives os.walk's files in os.walk's order, each resolved as
``Path.resolve`` resolves it (symbolic links to files and folders, a link as the top)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core.importing.scan import collect_files
from cobbdesk.core.importing.walk import walk_files


def _reference(folder: Path) -> Iterator[tuple[Path, Path]]:
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            target = (Path(root) / name).resolve()  # a dangling link: itself (named as given)
            yield Path(root) / name, target if target.exists() else Path(root) / name


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_walk_matches_os_walk_and_resolve(tmp_path: Path) -> None:
    base = tmp_path / "films"
    for folder in ("b/z", "a", "B", "a/deeper/deepest"):
        (base / folder).mkdir(parents=True, exist_ok=True)
    for name in ("x", "a/1", "a/2", "b/z/q", "B/k", "b/y", "a/.hidden", "a/deeper/deepest/f"):
        (base / name).write_text(name)
    (base / "link_dir").symlink_to(base / "a")  # listed as a folder, not followed
    (base / "a" / "link_file").symlink_to(base / "b" / "y")  # resolved to b/y
    (base / "broken").symlink_to(base / "nowhere")
    (base / "b" / "up").symlink_to("..")
    for top in (base, Path(f"{base}/b/../a"), base / "link_dir"):
        assert list(walk_files(top)) == list(_reference(top))
    files, errors = collect_files([base, base / "b" / "y"])
    assert not errors
    assert files.count((base / "b" / "y").resolve()) == 1  # reached three ways, kept once
    assert len(files) == 9  # 8 files (the link to b/y is b/y) and the broken link


def test_walk_stops_when_cancelled(tmp_path: Path) -> None:
    for n in range(3):
        (tmp_path / f"d{n}").mkdir()
        (tmp_path / f"d{n}" / "f").write_text("x")
    asked: list[int] = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) > 2

    assert [p.parent.name for p, _ in walk_files(tmp_path, cancel)] == ["d0"]
