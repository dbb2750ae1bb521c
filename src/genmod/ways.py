"""Chain or map, and verdicts that respect seed-to-seed noise (the benchmark, notebook 08).

The one definition (DESIGN.md, notebook 00):

- a **chain** runs until it forgets its start: the answer is its stationary law,
  consecutive states are correlated, the cost is per *independent* sample
  (evaluations / ESS);
- a **map** transports a known noise law in a fixed number of steps: particles never
  interact and each is an independent sample at the end; the cost is per sample, plus
  what was paid up front (a grid, training).

A verdict between two samplers compares intervals over sampling seeds, not two means:
when the intervals overlap, it is a draw.
"""

from __future__ import annotations

import math
import statistics

from scipy import stats

#: quality ratios (energy distance / noise floor) above this mean the run failed outright
DIVERGED = 1000.0

_MAP_FROM_LANGEVIN = (
    "a map built from Langevin steps: it starts from known noise and runs a fixed schedule "
    "of levels, and every particle ends as an independent sample; only the widest level "
    "mixes, the unadjusted steps at the lower levels are far too few to reach their "
    "stationary laws, so the answer comes from the schedule, not from a chain mixing"
)
#: sampler name -> (way, kind, why); a new benchmark sampler needs its entry here
WAYS = {
    "RWM": ("chain", "chain", "Metropolis: exact stationary law, correlated steps"),
    "MALA": ("chain", "chain", "Metropolis-adjusted Langevin: exact stationary law"),
    "HMC": ("chain", "chain", "Hamiltonian Monte Carlo: exact stationary law"),
    "NUTS": ("chain", "chain", "HMC with adaptive path length: exact stationary law"),
    "ULA": ("chain", "chain", "unadjusted Langevin: runs to a (biased) stationary law"),
    "PT": ("chain", "chain", "parallel tempering: chains at several temperatures swap states"),
    "parallel tempering": ("chain", "chain", "chains at several temperatures swap states"),
    "inverse transform": ("map", "deterministic map", "u -> F^{-1}(u), one look-up"),
    "RealNVP flow": ("map", "deterministic map", "one invertible network pass"),
    "GAN": ("map", "deterministic map", "one generator pass"),
    "flow matching": ("map", "deterministic map", "an ODE from noise, fixed steps"),
    "PF-ODE (RK4)": ("map", "deterministic map", "the probability flow ODE, fixed steps"),
    "reverse SDE (EM)": ("map", "stochastic map", "fresh noise at every step, fixed steps"),
    "reverse SDE (PC)": ("map", "stochastic map", "fresh noise at every step, fixed steps"),
    "ancestral (DDPM)": ("map", "stochastic map", "fresh noise at every step, fixed steps"),
    "annealed Langevin": ("map", "stochastic map", _MAP_FROM_LANGEVIN),
}


def classify(sampler: str) -> tuple[str, str, str]:
    """(way, kind, why) of a sampler by its benchmark name; way is "chain" or "map"."""
    if sampler not in WAYS:
        raise ValueError(f"unknown sampler {sampler!r}; known: {', '.join(WAYS)}")
    return WAYS[sampler]


def diverged(row: dict) -> bool:
    """True when any seed's quality is not finite or above :data:`DIVERGED`."""
    values = row.get("quality_seeds") or [row["quality"]]
    return any(not math.isfinite(q) or q > DIVERGED for q in values)


def interval(row: dict, level: float = 0.95) -> tuple[float, float]:
    """A ``level`` t-interval for the mean quality over the row's sampling seeds.

    mean +- t_{(1 + level)/2, k-1} sd / sqrt(k) over the k values in ``quality_seeds``
    (k >= 2: one seed carries no spread), the lower end clipped at 0.
    """
    values = row.get("quality_seeds")
    if not values or len(values) < 2:
        raise ValueError(
            f"{row.get('sampler')!r} on {row.get('target')!r} has no per-seed qualities: "
            "rerun `python benchmarks/run.py` (it records quality_seeds, >= 2 seeds)"
        )
    k, mean = len(values), statistics.fmean(values)
    half = stats.t.ppf((1 + level) / 2, k - 1) * statistics.stdev(values) / math.sqrt(k)
    return max(mean - half, 0.0), mean + half  # a ratio of distances is never negative


def verdict(a: dict, b: dict, level: float = 0.95) -> str:
    """Which of two rows has the lower (better) quality ratio, or "draw".

    A diverged run loses to one that did not ("draw" if both diverged). Otherwise the
    one whose interval lies wholly below the other's wins; overlapping intervals are a
    draw. Returns a's sampler name, b's, or "draw".
    """
    if diverged(a) or diverged(b):
        return "draw" if diverged(a) and diverged(b) else (b if diverged(a) else a)["sampler"]
    (alo, ahi), (blo, bhi) = interval(a, level), interval(b, level)
    if ahi < blo:
        return a["sampler"]
    if bhi < alo:
        return b["sampler"]
    return "draw"


def best(rows: list[dict], target: str, way: str) -> dict:
    """The non-diverged row with the lowest mean quality for a target and way."""
    cands = [r for r in rows if r["target"] == target and r["way"] == way and not diverged(r)]
    if not cands:
        raise ValueError(f"no finished {way} rows for target {target!r}")
    return min(cands, key=lambda r: r["quality"])


def showdown(rows: list[dict], target: str, level: float = 0.95) -> dict:
    """The best chain against the best map on one target.

    Returns chain, map (the rows), verdict ("chain", "map" or "draw") and the two
    intervals.
    """
    c, m = best(rows, target, "chain"), best(rows, target, "map")
    v = verdict(c, m, level)
    way = "draw" if v == "draw" else ("chain" if v == c["sampler"] else "map")
    return dict(
        chain=c,
        map=m,
        verdict=way,
        chain_interval=interval(c, level),
        map_interval=interval(m, level),
    )


def verdict_table(rows: list[dict], level: float = 0.95) -> list[dict]:
    """:func:`showdown` for every target in ``rows`` (in order of first appearance), plus
    ``target`` and ``diverged``: the samplers that diverged there, with their worst ratio."""
    out = []
    for target in dict.fromkeys(r["target"] for r in rows):
        res = showdown(rows, target, level)
        bad = [r for r in rows if r["target"] == target and diverged(r)]
        worst = [(r["sampler"], max(r.get("quality_seeds") or [r["quality"]])) for r in bad]
        out.append(dict(target=target, diverged=worst, **res))
    return out
