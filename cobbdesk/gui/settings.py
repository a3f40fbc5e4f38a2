"""Application settings (QSettings in an INI file under the user config dir, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from PySide6.QtCore import QSettings

SETTINGS_VERSION = 2
"""Version 2 stopped remembering film file names (they often carry patient names or MRNs):
the old ``recent_files`` list is removed on first use."""
MAX_RECENT = 10
DEFAULT_SNAP_THRESHOLD_DEG = 2.0
"""Same as :data:`cobbdesk.core.measure.session.DEFAULT_SNAP_THRESHOLD_DEG` (not imported:
settings load before the first paint, the session's numpy after it)."""


def settings_path() -> Path:
    """``$COBBDESK_CONFIG_DIR/cobbdesk.ini`` or the platform's user config directory."""
    base = os.environ.get("COBBDESK_CONFIG_DIR") or platformdirs.user_config_dir("cobbdesk")
    return Path(base) / "cobbdesk.ini"


def settings() -> QSettings:
    store = QSettings(str(settings_path()), QSettings.Format.IniFormat)
    if int(store.value("settings_version", 0)) < SETTINGS_VERSION:
        store.remove("recent_files")  # version 1 kept film paths: names, MRNs
        store.setValue("settings_version", SETTINGS_VERSION)
    return store


def recent_films() -> list[tuple[str, int]]:
    """Recently opened **study** films as ``(study path, film id)``, newest first.

    Only a study-relative id is kept, never a film's file name (file names often carry patient
    names or MRNs); films opened outside a study are remembered for the session only.
    """
    value = settings().value("recent_films", [])
    items = [value] if isinstance(value, str) else list(value or [])
    found = []
    for item in map(str, items):
        film_id, _, study = item.partition("@")
        if film_id.isdigit() and study:
            found.append((study, int(film_id)))
    return found


def add_recent_film(study: Path, film_id: int) -> list[tuple[str, int]]:
    entry = (str(study), int(film_id))
    recent = [entry, *(r for r in recent_films() if r != entry)][:MAX_RECENT]
    settings().setValue("recent_films", [f"{fid}@{path}" for path, fid in recent])
    return recent


def recent_studies() -> list[str]:
    value = settings().value("recent_studies", [])
    items = value if isinstance(value, list) else [value]
    return [str(v) for v in items if v]


def add_recent_study(path: Path) -> list[str]:
    recent = [str(path), *(r for r in recent_studies() if r != str(path))][:MAX_RECENT]
    settings().setValue("recent_studies", recent)
    return recent


def snap_threshold_deg() -> float:
    """Snaps turning a line by more than this many degrees ask for confirmation."""
    try:
        value = float(settings().value("snap_threshold_deg", DEFAULT_SNAP_THRESHOLD_DEG))
    except (TypeError, ValueError):
        return DEFAULT_SNAP_THRESHOLD_DEG
    return value if 0.0 <= value <= 45.0 else DEFAULT_SNAP_THRESHOLD_DEG


def set_snap_threshold_deg(value: float) -> None:
    settings().setValue("snap_threshold_deg", float(value))


def save_layout(geometry: bytes, state: bytes, version: int) -> None:
    """The main window's size/position and dock layout, restored at the next start."""
    store = settings()
    store.setValue("window/geometry", geometry)
    store.setValue("window/state", state)
    store.setValue("window/state_version", version)


def layout(version: int) -> tuple[bytes | None, bytes | None]:
    """(geometry, dock state) saved by :func:`save_layout`; the state only when saved by the
    same layout ``version`` (docks renamed or added make an old state meaningless)."""
    store = settings()
    geometry, state = store.value("window/geometry"), store.value("window/state")
    same = int(store.value("window/state_version", -1) or -1) == version
    return (_bytes(geometry), _bytes(state) if same else None)


def _bytes(value: object) -> bytes | None:
    if value is None:
        return None
    data = value.data() if hasattr(value, "data") else value
    return bytes(data) if isinstance(data, bytes | bytearray) and data else None


def last_study() -> Path | None:
    """The study open when the app was last closed (None: none, or the user said no)."""
    value = settings().value("last_study", "")
    return Path(str(value)) if value and reopen_last_study() else None


def set_last_study(path: Path | None) -> None:
    settings().setValue("last_study", str(path) if path is not None else "")


def reopen_last_study() -> bool:
    """Whether to reopen the last study at start (default yes; Study menu toggles it)."""
    return bool(settings().value("reopen_last_study", True, type=bool))


def set_reopen_last_study(on: bool) -> None:
    settings().setValue("reopen_last_study", bool(on))


PACS_DEFAULTS: dict[str, object] = {"nodes": [], "own_aet": "COBBDESK", "own_port": 11113,
                                    "last": ""}  # fmt: skip
"""Query PACS settings: ``nodes`` (dicts name, called_aet, host, port, url — url non-empty
for a DICOMweb server), CobbDesk's own AE title and C-MOVE port, the node used last."""


def pacs_config() -> dict[str, object]:
    """The saved PACS nodes and CobbDesk's own AE title/port (defaults when none or broken)."""
    import json

    try:
        saved = json.loads(str(settings().value("pacs/config", "") or "{}"))
    except ValueError:
        saved = {}
    config = dict(PACS_DEFAULTS)
    config.update({k: v for k, v in saved.items() if k in PACS_DEFAULTS})
    return config


def set_pacs_config(config: dict[str, object]) -> None:
    import json

    settings().setValue("pacs/config", json.dumps(config))
