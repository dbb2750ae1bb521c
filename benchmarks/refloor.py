"""Re-divide the stored quality readings by the closed-form noise floor (one-off, 2026-12-03).

Until 2026-12-03 ``metrics.quality(x, t, seed=s)`` divided by the mean of 10 drawn pairs
of exact draws at seed s; since then by ``metrics.expected_floor(t, n)``, the closed form
2 E|X - X'| / n. The numerator (the samples against the same reference draws) did not
change, so each stored reading converts exactly:

    new = old * (mean of seed s's 10 drawn pairs) / expected_floor(t, n)

The script starts from the readings of commit BEFORE (the last one with the old floor,
read with ``git show``), so running it again gives the same result: by default it checks
that ``results.json`` (the samplers table, n = 2,000, seeds 0-2) and ``dimension.json``
(n = 2,000, seeds 0-2) hold those readings converted; ``--write`` writes them and their
tables in ``results.md``. Timings and every other field stay as measured.

    python benchmarks/refloor.py [--write]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dimension  # noqa: E402  (benchmarks/dimension.py)
import run  # noqa: E402  (benchmarks/run.py)

from genmod import metrics, targets  # noqa: E402

N = 2000
BEFORE = "dc9236b"  # main before the floor changed


@functools.cache
def factor(name: str, seed: int) -> float:
    """old floor / new floor for quality(x, targets.get(name), seed=seed) at N points."""
    t = targets.get(name)
    old = statistics.mean(metrics.noise_floor(t, N, seed=seed).values)  # 10 pairs, as before
    return old / metrics.expected_floor(t, N)


def refloor(rows: list[dict], name_of) -> None:
    for r in rows:
        f = [factor(name_of(r), s) for s in range(len(r["quality_seeds"]))]
        r["quality_seeds"] = [q * k for q, k in zip(r["quality_seeds"], f, strict=True)]
        r["quality"] = statistics.mean(r["quality_seeds"])


def _before(name: str):
    out = subprocess.run(
        ["git", "show", f"{BEFORE}:benchmarks/{name}"], cwd=HERE, check=True, capture_output=True
    )
    return json.loads(out.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="write the files (default: check)")
    args = ap.parse_args(argv)
    names = ["two_moons", "eight_gaussians", "separated_mixture", "banana", "checkerboard"]
    names += [f"mixture_unequal_d{d}" for d in dimension.SIZES["full"].dims]
    for name in names:
        print(f"{name:22s}", " / ".join(f"{factor(name, s):.3f}" for s in range(3)))
    rows, result = _before("results.json"), _before("dimension.json")
    old_table, old_tables = run.sampler_table(rows, N), dimension.tables(result, N)
    refloor(rows, lambda r: r["target"])
    refloor(result["rows"], lambda r: f"mixture_unequal_d{r['d']}")
    if not args.write:  # the check: exit status 1 when a file differs
        held = True
        for name, new in (("results.json", rows), ("dimension.json", result)):
            now = json.loads((HERE / name).read_text())
            held &= now == new
            status = "holds" if now == new else "does NOT hold"
            print(f"{name} {status} {BEFORE}'s readings re-divided")
        return 0 if held else 1
    (HERE / "results.json").write_text(json.dumps(rows, indent=1))
    (HERE / "dimension.json").write_text(json.dumps(result, indent=1))
    md = HERE / "results.md"
    text = md.read_text()
    for old, new in (
        (old_table, run.sampler_table(rows, N)),
        (old_tables, dimension.tables(result, N)),
    ):
        text = text.replace(old, new)
    md.write_text(text)
    print("results.json, dimension.json and their tables in results.md re-divided")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
