"""How good is a score, and what did a sampler do with the modes? (notebooks 04-05)

Score errors against the exact score of a Gaussian mixture, on a grid or where the
particles of annealed Langevin actually are; the share of each mode in a sample set and
the spread within modes; the share of the plot box where the density is negligible.
"""

from __future__ import annotations

import math

import torch

from genmod.arrays import as_points, grid
from genmod.score import Ladder
from genmod.trajectory import Trajectory


def region_errors(
    score, exact, bounds=None, resolution: int = 100, high: float = 0.1, low=1e-4
) -> dict[str, float]:
    """Relative score error where the density is high and where it is low, on a grid.

    Relative error over a region R: sqrt(sum_R |s - s*|^2 / sum_R |s*|^2), with s* the
    exact score of ``exact`` (e.g. ``mixture.perturbed(sigma)``) and ``score`` a function of
    x alone (``model.score`` of a one-level model). High: grid points with
    p > ``high`` * max p; low: p < ``low`` * max p (inside ``bounds``, default exact.bounds).

    Returns
    -------
    dict with ``high`` and ``low`` (relative errors) and ``frac_low`` (share of the box
    that is low density).
    """
    _, _, pts, _ = grid(bounds or exact.bounds, resolution, dtype=torch.float32)
    with torch.no_grad():
        lp = exact.log_prob(pts).double()
        s_true = exact.score(pts).double()
        diff = torch.as_tensor(score(pts)).double() - s_true
    rel = lp - lp.max()
    out = {}
    for name, mask in (("high", rel > math.log(high)), ("low", rel < math.log(low))):
        if not mask.any():
            raise ValueError(f"no grid point in the {name}-density region; widen the bounds")
        err = (diff[mask] ** 2).sum() / (s_true[mask] ** 2).sum()
        out[name] = float(err.sqrt())
    out["frac_low"] = float((rel < math.log(low)).double().mean())
    return out


def mode_weights(x, mixture) -> torch.Tensor:
    """Share of points nearest (by responsibility) to each component of ``mixture``. -> (k,)

    For well-separated modes this estimates the weight a sampler gives each mode.
    """
    x = as_points(x, "x")
    k = mixture.responsibilities(x).argmax(1)
    return torch.bincount(k, minlength=len(mixture.weights)).double() / x.shape[0]


def within_mode_std(x, mixture) -> float:
    """RMS per-coordinate distance of points to the mean of their most responsible component.

    For isotropic unit-std modes an exact sampler gives about 1; unadjusted Langevin with
    step h gives about 1 / sqrt(1 - h^2 / 4) (its step-size bias).
    """
    x = as_points(x, "x")
    k = mixture.responsibilities(x).argmax(1)
    return float((x.double() - mixture.means[k]).pow(2).mean().sqrt())


def errors_along(traj: Trajectory, score_fn, mixture) -> list[tuple[float, float]]:
    """Relative error of a learned score where annealed Langevin particles actually are.

    For each level sigma of ``traj`` (from :func:`genmod.langevin.annealed`),
    at the positions where that level starts: sqrt(sum |s(x, t) - s*(x)|^2 / sum |s*(x)|^2),
    t the level's time on the ladder, s* the exact score of ``mixture.perturbed(sigma)``.
    Returns [(sigma, relative error), ...], largest first.
    """
    sig = traj.extras["sigma"]
    ladder = Ladder(torch.unique(sig[sig > 0]))  # the levels the run went down
    out = []
    for s in torch.unique(sig[sig > 0]).flip(0).tolist():
        first = int(torch.nonzero(sig == s)[0])
        x = traj.xs[max(first - 1, 0)]
        exact = mixture.perturbed(s).score(x).double()
        diff = torch.as_tensor(score_fn(x, ladder.time(s))).double() - exact
        out.append((s, float((diff.pow(2).sum() / exact.pow(2).sum()).sqrt())))
    return out


def low_density_share(target, bounds=None, low: float = 1e-4, resolution: int = 100) -> float:
    """Share of the box where the density is below ``low`` times its maximum there."""
    _, _, pts, _ = grid(bounds or target.bounds, resolution)
    lp = target.log_prob(pts).double()
    return float((lp - lp.max() < math.log(low)).double().mean())
