"""Over-redaction check: the program's own string constants with 100,000 patients remembered.

Collects every string constant of the ``cobbdesk`` package (not the redaction package
itself), remembers ``bench_redact.identifiers(N)`` (seeded synthetic patients: names, MRNs,
ISO birth dates 1930-2010, sequential hospital IDs) and prints each constant that redaction
changes beyond what it changes with nobody remembered (rules 2 and 3 alone).  With
``--baseline`` (a copy of an older redaction package, see ``bench_redact.load``) it also
prints the constants whose redaction differs between the two.  Asserts nothing.

    python benchmarks/check_redact_constants.py [--patients N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from types import ModuleType

from bench_redact import identifiers, load


def constants(package: Path) -> list[str]:
    """Every distinct string constant of the package's modules, redaction's own excepted."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        if "redact" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
                found.add(node.value)
    return sorted(found)


def redacted(module: ModuleType, texts: list[str], names: str, values: str) -> list[str]:
    """``texts`` redacted by ``module`` with the identifiers remembered (none when empty)."""
    module.forget_all()
    if names or values:
        module.remember_joined(names, values)
    out = [module.redact(t) for t in texts]
    module.forget_all()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--baseline", type=Path, help="an older redaction package copy")
    args = parser.parse_args()
    from cobbdesk.core import redact

    texts = constants(Path(redact.__file__).resolve().parents[2])
    names, values = identifiers(args.patients)
    modules = {"new": redact} | ({"old": load(args.baseline)} if args.baseline else {})
    changed = {}
    for key, module in modules.items():
        alone = redacted(module, texts, "", "")
        full = redacted(module, texts, names, values)
        changed[key] = {t: f for t, a, f in zip(texts, alone, full, strict=True) if a != f}
        print(f"{key}: {len(changed[key])} of {len(texts)} constants over-redacted at "
              f"{args.patients} patients")  # fmt: skip
        for text, out in changed[key].items():
            print(f"  {text!r}\n    -> {out!r}")
    if "old" in changed:
        for text in sorted(set(changed["new"]) ^ set(changed["old"])):
            print(f"differs: {text!r}: old {changed['old'].get(text, text)!r}, "
                  f"new {changed['new'].get(text, text)!r}")  # fmt: skip


if __name__ == "__main__":
    main()
