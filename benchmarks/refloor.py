"""Re-divide the stored quality readings by the closed-form noise floor (one-off, 2026-12-03).

Until 2026-12-03 ``metrics.quality(x, t, seed=s)`` divided by the mean of 10 drawn pairs
of exact draws at seed s; since then by ``metrics.expected_floor(t, n)``, the closed form
2 E|X - X'| / n. The numerator (the samples against the same reference draws) did not
change, so each stored reading converts exactly:

    new = old * (mean of seed s's 10 drawn pairs) / expected_floor(t, n)

This rewrites the readings of ``results.json`` (the samplers table, n = 2,000, seeds 0-2)
and ``dimension.json`` (n = 2,000, seeds 0-2) and their tables in ``results.md``, without
re-running the samplers; timings and every other field stay as measured. Run once:

    python benchmarks/refloor.py [--check]   # --check: print the factors, write nothing
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dimension  # noqa: E402  (benchmarks/dimension.py)
import run  # noqa: E402  (benchmarks/run.py)

from genmod import metrics, targets  # noqa: E402

N = 2000


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="print the factors only")
    args = ap.parse_args(argv)
    names = ["two_moons", "eight_gaussians", "separated_mixture", "banana", "checkerboard"]
    names += [f"mixture_unequal_d{d}" for d in dimension.SIZES["full"].dims]
    for name in names:
        print(f"{name:22s}", " / ".join(f"{factor(name, s):.3f}" for s in range(3)))
    if args.check:
        return 0
    md = HERE / "results.md"
    text = md.read_text()

    path = HERE / "results.json"
    rows = json.loads(path.read_text())
    old_table = run.sampler_table(rows, N)
    assert old_table in text, "results.md's samplers table is not what results.json renders"
    refloor(rows, lambda r: r["target"])
    path.write_text(json.dumps(rows, indent=1))
    text = text.replace(old_table, run.sampler_table(rows, N))

    path = HERE / "dimension.json"
    result = json.loads(path.read_text())
    old_tables = dimension.tables(result, N)
    assert old_tables in text, "results.md's dimension tables are not what dimension.json renders"
    refloor(result["rows"], lambda r: f"mixture_unequal_d{r['d']}")
    path.write_text(json.dumps(result, indent=1))
    text = text.replace(old_tables, dimension.tables(result, N))
    md.write_text(text)
    print("results.json, dimension.json and their tables in results.md re-divided")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
