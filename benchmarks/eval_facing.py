"""How well :func:`cobbdesk.core.measure.facing.estimate_facing` guesses a film's facing.

Synthetic lateral cervical and lumbar films (``cobbdesk.synth``) of both facings over a range
of lordoses, seeds, spacings and film shapes, each delivered under every perturbation of
``_facing_perturb`` (mirrored, MONOCHROME1, heavy noise, another tone curve, rotated ±10° and
cropped, a collar, implants); then every readable real film in ``../shared/data/radiographs``
(none is a lateral spine: the estimator should abstain on them).

Prints, per region and perturbation: films, correct, wrong, abstained, accuracy of the answered
ones, abstention rate and the confident wrong answers (an answer counts when its confidence is
≥ ``--threshold``; a lower-confidence answer is counted as an abstention, and a wrong one of
those is reported as "weak-wrong"), then one line per real film.  Usage::

    python benchmarks/eval_facing.py [--quick] [--threshold 0.6] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _facing_perturb import PERTURBATIONS

from cobbdesk.core.measure.facing import Facing, estimate_facing
from cobbdesk.synth.spine import make_lateral_spine

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "radiographs"


@dataclass
class Tally:
    name: str
    threshold: float
    correct: int = 0
    wrong: int = 0
    abstained: int = 0
    weak_wrong: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, truth: Facing, pixels: np.ndarray, inverted: bool = False) -> None:
        t0 = time.perf_counter()
        guess = estimate_facing(pixels, photometric_inverted=inverted)
        self.seconds.append(time.perf_counter() - t0)
        if guess.facing is None or guess.confidence < self.threshold:
            self.abstained += 1
            self.weak_wrong += guess.facing is not None and guess.facing is not truth
        elif guess.facing is truth:
            self.correct += 1
        else:
            self.wrong += 1
            print(f"  confident wrong guess in {self.name}: {guess}", file=sys.stderr)

    def merge(self, other: Tally) -> None:
        self.correct += other.correct
        self.wrong += other.wrong
        self.abstained += other.abstained
        self.weak_wrong += other.weak_wrong
        self.seconds += other.seconds

    def line(self) -> str:
        n = self.correct + self.wrong + self.abstained
        answered = self.correct + self.wrong
        accuracy = f"{self.correct / answered:6.1%}" if answered else "   n/a"
        return (
            f"{self.name:<30} films {n:4d}  correct {self.correct:4d}  wrong {self.wrong:3d}  "
            f"abstained {self.abstained:4d} ({self.abstained / max(n, 1):6.1%})  accuracy of "
            f"answers {accuracy}  weak-wrong {self.weak_wrong:3d}  "
            f"max {1000 * max(self.seconds, default=0):.0f} ms"
        )


def synthetic(quick: bool, threshold: float, seeds: tuple[int, ...]) -> list[Tally]:
    """One tally per (region, perturbation), then one per region over all perturbations."""
    lordoses = (-20.0, 10.0, 40.0) if quick else (-30.0, -10.0, 0.0, 15.0, 30.0, 45.0, 60.0)
    settings = ((0.012, 0.7, (0.3, 0.3), 1.0), (0.03, 1.5, (0.25, 0.35), 0.85))
    rows: list[Tally] = []
    for region in ("cervical", "lumbar"):
        per = {name: Tally(f"{region} {name}", threshold) for name in PERTURBATIONS}
        shape = (1000, 800) if region == "cervical" else (1300, 1000)
        for lordosis, seed, (noise, blur, spacing, aspect), facing in itertools.product(
            lordoses, seeds, settings, Facing
        ):
            spine = make_lateral_spine(
                region, lordosis, rows=shape[0], columns=round(shape[1] * aspect),
                spacing_mm=spacing, facing=facing.value, seed=seed, noise=noise, blur=blur,
            )  # fmt: skip
            rng = np.random.default_rng([seed, int(lordosis) + 100, len(facing.value)])
            for name, perturb in PERTURBATIONS.items():
                pixels, inverted, flipped = perturb(spine, rng)
                per[name].add(facing.opposite if flipped else facing, pixels, inverted)
        total = Tally(f"{region} ALL", threshold)
        for tally in per.values():
            total.merge(tally)
        rows += [*per.values(), total]
    return rows


def real_films() -> list[str]:
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError

    lines = []
    for path in sorted(DATA.glob("*.dcm")):
        try:
            film = read_film(path)
        except CobbdeskError as exc:
            lines.append(f"{path.name:<34} unreadable ({exc.problem[:60]})")
            continue
        guess = estimate_facing(film.pixels, film.inverted)
        said = guess.facing.value if guess.facing else "abstains"
        header = film.patient_orientation or "-"
        lines.append(
            f"{path.name:<34} {film.modality or '?':<3} {film.body_part_examined or '-':<10} "
            f"orientation {header!s:<12} → {said:<8} {guess.confidence:.2f}  {guess.reason}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer synthetic films")
    parser.add_argument("--threshold", type=float, default=0.6, help="confidence to answer")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="synthetic seeds")
    parser.add_argument("--no-real", action="store_true", help="skip the real films")
    args = parser.parse_args()
    seeds = tuple(args.seeds or ((1,) if args.quick else (1, 2, 3)))
    for tally in synthetic(args.quick, args.threshold, seeds):
        print(tally.line())
    if args.no_real:
        return
    print(f"real films in {DATA}:" if DATA.is_dir() else f"no real films: {DATA} is missing")
    for line in real_films() if DATA.is_dir() else []:
        print("  " + line)


if __name__ == "__main__":
    main()
