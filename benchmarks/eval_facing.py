"""How well :func:`cobbdesk.core.measure.facing.estimate_facing` guesses a film's facing.

Synthetic lateral cervical and lumbar films (``cobbdesk.synth``) of both facings, over a range
of lordoses, seeds, noise, blur and spacings, plus each film mirrored (the mirror has the
opposite facing); then every readable real film in ``../shared/data/radiographs`` (mostly not
lateral spines: the estimator should abstain on them).

Prints, per set: films, correct, wrong, abstained, accuracy of the answered ones, abstention
rate, and the number of confident wrong answers (confidence ≥ ``--threshold``), then one line
per real film.  Usage::

    python benchmarks/eval_facing.py [--quick] [--threshold 0.6]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
    confident_wrong: int = 0
    confidences: list[float] = field(default_factory=list)

    def add(self, truth: Facing, pixels: np.ndarray) -> None:
        guess = estimate_facing(pixels)
        if guess.facing is None or guess.confidence < self.threshold:
            self.abstained += 1
        elif guess.facing is truth:
            self.correct += 1
            self.confidences.append(guess.confidence)
        else:
            self.wrong += 1
            self.confident_wrong += 1
        if guess.facing is not None and guess.facing is not truth:
            print(f"  wrong raw guess in {self.name}: {guess}", file=sys.stderr)

    def line(self) -> str:
        n = self.correct + self.wrong + self.abstained
        answered = self.correct + self.wrong
        accuracy = f"{self.correct / answered:.1%}" if answered else "n/a"
        return (
            f"{self.name:<28} films {n:4d}  correct {self.correct:4d}  wrong {self.wrong:3d}  "
            f"abstained {self.abstained:4d} ({self.abstained / n:.1%})  accuracy of answers "
            f"{accuracy}  confident-wrong {self.confident_wrong}"
        )


def synthetic(quick: bool, threshold: float) -> list[Tally]:
    lordoses = (-20.0, 0.0, 25.0, 50.0) if quick else (-30.0, -10.0, 0.0, 15.0, 30.0, 45.0, 60.0)
    seeds = (1,) if quick else (1, 2, 3)
    settings = ((0.012, 0.7, (0.3, 0.3)), (0.03, 1.5, (0.3, 0.3)), (0.012, 0.7, (0.25, 0.35)))
    tallies = []
    for region in ("cervical", "lumbar"):
        tally = Tally(f"synthetic {region}", threshold)
        shape = (1000, 800) if region == "cervical" else (1300, 1000)
        for lordosis, seed, (noise, blur, spacing), facing in itertools.product(
            lordoses, seeds, settings, Facing
        ):
            spine = make_lateral_spine(
                region, lordosis, rows=shape[0], columns=shape[1], spacing_mm=spacing,
                facing=facing.value, seed=seed, noise=noise, blur=blur,
            )  # fmt: skip
            tally.add(facing, spine.pixels)
            tally.add(facing.opposite, spine.pixels[:, ::-1])
        tallies.append(tally)
    return tallies


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
    args = parser.parse_args()
    for tally in synthetic(args.quick, args.threshold):
        print(tally.line())
    print(f"real films in {DATA}:" if DATA.is_dir() else f"no real films: {DATA} is missing")
    for line in real_films() if DATA.is_dir() else []:
        print("  " + line)


if __name__ == "__main__":
    main()
