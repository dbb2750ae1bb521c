"""How close is a sample set to a target? Energy distance, MMD, and the noise floor.

Two exact draws of size n are never at distance 0: the V-statistic form of the
energy distance used here is positive even for identical laws, and its expected value has
a closed form, 2 E|X - X'| / n (MMD: 2 (1 - E k(X, X')) / n). That value is the *noise
floor*, and quality is quoted as metric / floor: about 1 means "as good as exact samples
of this size". One reading scatters widely around it (exact draws' readings have an sd of
0.6-1.4 floors, measured at n = 500-8,000: more points do not narrow it), so a claim needs
a margin or several sample sets.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from genmod.arrays import as_points, check_n
from genmod.densities import Target

_CHUNK = 2048
#: The pairwise metrics refuse more than this many pair distances, (n + m)^2 in all
#: (about 20 s of work; n = m = 22,000 fits): subsample above it.
MAX_PAIRS = 2 * 10**9


def _pairwise_mean(x: torch.Tensor, y: torch.Tensor, fn) -> float:
    """Mean of fn(|x_i - y_j|) over all pairs (diagonal included), in 2048 x 2048 blocks.

    Blocks bound the memory (32 MB each in float64) whatever the sizes of x and y.
    """
    total = 0.0
    for xc in x.split(_CHUNK):
        for yc in y.split(_CHUNK):
            d = torch.cdist(xc, yc, compute_mode="donot_use_mm_for_euclid_dist")
            total += float(fn(d).sum())
    return total / (x.shape[0] * y.shape[0])


def _prepare(x, y):
    x = as_points(x, "x", dim=None).detach().double()
    y = as_points(y, "y", dim=x.shape[1]).detach().double()
    for name, v in (("x", x), ("y", y)):
        if v.shape[0] == 0:
            raise ValueError(f"{name} is empty")
        if not torch.isfinite(v).all():
            raise ValueError(f"{name} has non-finite values ({int((~torch.isfinite(v)).sum())})")
    pairs = (x.shape[0] + y.shape[0]) ** 2
    if pairs > MAX_PAIRS:
        raise ValueError(
            f"x and y have {x.shape[0]} and {y.shape[0]} points: {pairs:.1e} pair distances, "
            f"above the limit of {MAX_PAIRS:.0e} (metrics.MAX_PAIRS); subsample them "
            "(e.g. x[:20000])"
        )
    return x, y


def energy_distance(x, y) -> float:
    """Energy distance 2 E|X-Y| - E|X-X'| - E|Y-Y'|, V-statistic (all pairs, diagonal included).

    The same estimator as ``dcor.energy_distance``; float64 and in blocks, so memory stays
    bounded; O((n + m)^2) work, refused above ``MAX_PAIRS``. x: (n, d), y: (m, d) -> float >= 0.
    """
    x, y = _prepare(x, y)
    ident = lambda d: d  # noqa: E731
    return (
        2 * _pairwise_mean(x, y, ident) - _pairwise_mean(x, x, ident) - _pairwise_mean(y, y, ident)
    )


def mmd(x, y, bandwidth: float = 1.0) -> float:
    """Squared MMD with the RBF kernel exp(-|a-b|^2 / (2 bandwidth^2)), V-statistic (>= 0).

    x: (n, d), y: (m, d) -> float.
    """
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0, got {bandwidth}")
    x, y = _prepare(x, y)
    k = lambda d: torch.exp(-(d**2) / (2 * bandwidth**2))  # noqa: E731
    return _pairwise_mean(x, x, k) + _pairwise_mean(y, y, k) - 2 * _pairwise_mean(x, y, k)


METRICS = {"energy": energy_distance, "mmd": mmd}


def _metric(name: str):
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; valid: {', '.join(METRICS)}")
    return METRICS[name]


class NoiseFloor(NamedTuple):
    """The metric between two independent exact draws of size n.

    ``mean`` is its expected value (the closed form, what :func:`quality` divides by);
    ``values`` are ``repeats`` pairs actually drawn, to show how one pair scatters around
    it, and ``std`` is their sd.
    """

    mean: float
    std: float
    values: tuple[float, ...]
    n: int
    metric: str


#: Disjoint pairs of exact draws behind the floor's closed form, drawn in blocks from
#: seeds FLOOR_SEED, FLOOR_SEED + 1, ... (apart from every other stream in the notes)
FLOOR_PAIRS = 200_000
FLOOR_SEED = 3_000_000
_FLOOR_BLOCK = 25_000


def pair_mean(target: Target, metric: str = "energy") -> float:
    """E|X - X'| (energy) or E k(X, X') (mmd, bandwidth 1) for independent X, X' ~ target.

    The mean over FLOOR_PAIRS disjoint pairs of exact draws (relative standard error
    0.1-0.3% on the notes' targets); cached on the target object.
    """
    _metric(metric)
    cache = target.__dict__.setdefault("_pair_means", {})
    if metric not in cache:
        total, seed = 0.0, FLOOR_SEED
        for _ in range(FLOOR_PAIRS // _FLOOR_BLOCK):
            x = target.sample(_FLOOR_BLOCK, seed=seed).double()
            y = target.sample(_FLOOR_BLOCK, seed=seed + 1).double()
            d = (x - y).norm(dim=1)
            total += float((d if metric == "energy" else torch.exp(-(d**2) / 2)).sum())
            seed += 2
        cache[metric] = total / FLOOR_PAIRS
    return cache[metric]


def noise_floor(
    target: Target, n: int = 2000, seed: int = 0, repeats: int = 10, metric: str = "energy"
) -> NoiseFloor:
    """The metric between two independent draws of ``n`` exact samples.

    ``mean``: its expected value, 2 E|X - X'| / n for the energy distance and
    2 (1 - E k(X, X')) / n for MMD (each self term of the V-statistic misses its n zero
    diagonal entries), with the expectation from :func:`pair_mean`; the same for every
    ``seed``. ``values``: ``repeats`` pairs drawn with seeds 1_000_000 + 1000 * seed +
    (0, 1, 2, ...), apart from the small seeds notebooks use for their own samples.
    Targets without an exact sampler use their fine-grid sampler. Cached on the target.
    """
    n, fn = check_n(n), _metric(metric)
    check_n(repeats, "repeats")
    # cached on the target object: quality() and the widgets ask for the same floor often
    cache = target.__dict__.setdefault("_noise_floors", {})
    key = (n, int(seed), repeats, metric)
    if key not in cache:
        base = 1_000_000 + 1000 * int(seed)
        vals = tuple(
            fn(target.sample(n, seed=base + 2 * r), target.sample(n, seed=base + 2 * r + 1))
            for r in range(repeats)
        )
        t = torch.tensor(vals, dtype=torch.float64)
        std = float(t.std()) if repeats > 1 else 0.0
        cache[key] = NoiseFloor(expected_floor(target, n, metric), std, vals, n, metric)
    return cache[key]


def expected_floor(target: Target, n: int = 2000, metric: str = "energy") -> float:
    """The noise floor's expected value at size ``n``: 2 E|X - X'| / n (energy distance)
    or 2 (1 - E k(X, X')) / n (MMD), from :func:`pair_mean`. No pairs of size n drawn."""
    n = check_n(n)
    m = pair_mean(target, metric)
    return 2 * (m if metric == "energy" else 1 - m) / n


#: Reference draws for quality() use seeds from here on, apart from the floors' and the notes'.
REFERENCE_SEED = 2_000_000


def reference_seed(seed: int = 0, repeat: int = 0) -> int:
    """The one rule for quality's reference draws: ``REFERENCE_SEED + seed + 1000 * repeat``."""
    return REFERENCE_SEED + int(seed) + 1000 * int(repeat)


def quality(
    samples, target: Target, seed: int = 0, metric: str = "energy", repeats: int = 1
) -> float:
    """metric(samples, fresh exact draw of the same size) / noise floor at that size.

    About 1: as good as exact samples; 2: twice the distance two exact draws have on
    average (the floor is the closed form of :func:`expected_floor`, not a drawn pair).
    ``repeats`` > 1 averages the metric over that many independent reference draws
    (seeds from :func:`reference_seed`), which removes the reference draw's share of the
    noise; the samples' own share remains at any n, so claims need a margin or several
    sample sets.
    samples: (n, d) -> float.
    """
    samples = as_points(samples, "samples", dim=getattr(target, "dim", 2), finite=True, min_n=1)
    n, fn = samples.shape[0], _metric(metric)
    repeats = check_n(repeats, "repeats")
    dist = sum(fn(samples, target.sample(n, seed=reference_seed(seed, r))) for r in range(repeats))
    return dist / repeats / expected_floor(target, n, metric)
