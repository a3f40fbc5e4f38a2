"""A seeded fuzz run in CI: every mutated film opens and renders, or fails with a CobbdeskError.

Runs a few hundred mutations in a subprocess whose workers have a 2 GiB address-space cap
(``RLIMIT_AS``) and a 60 s budget (``--seconds``: the run stops early, it never fails on time).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys

from cobbdesk.core.dicom.fuzz import MUTATIONS, mutate
from tests.conftest import SHARED_DATA


def test_mutations_are_reproducible_and_change_the_data() -> None:
    data = bytes(range(256)) * 8 + b"\x28\x00\x10\x00US\x02\x00\x40\x00" + b"\xff\xc0" + b"x" * 20
    for kind in MUTATIONS:
        first = mutate(data, random.Random(42), kind)
        assert first == mutate(data, random.Random(42), kind)
    assert len(mutate(data, random.Random(1), "truncate")) < len(data)
    changed = sum(mutate(data, random.Random(s), "value") != data for s in range(50))
    assert changed > 25


def test_a_few_hundred_mutations_end_ok_or_in_words() -> None:
    folders = [str(SHARED_DATA / "field-cases"), str(SHARED_DATA / "malformed")]
    command = [sys.executable, "-m", "cobbdesk.core.dicom.fuzz", "--cases", "300"]
    command += ["--workers", "1", "--seed", "7", "--seconds", "60", "--memory-gib", "2"]
    result = subprocess.run(
        command + folders, capture_output=True, text=True, timeout=300, check=False
    )
    summary = json.loads(result.stdout)
    assert summary["unexpected"] == [], summary["unexpected"]
    assert result.returncode == 0, result.stderr[-2000:]
    assert summary["cases"] >= 50  # the time budget may stop it early on a loaded machine
    assert set(summary["outcomes"]) <= {
        "ok",
        "NotDicomError",
        "MissingFileMetaError",
        "DicomHeaderError",
        "PixelDataError",
        "UnsupportedTransferSyntaxError",
    }
    assert summary["outcomes"].get("ok", 0) > 0
